// P-tuning's input-site hook. PEFT saves the prompt encoder's output as
// prompt_embeddings and, in inference mode, uses those rows directly: so does
// an evaluation or generation graph here. Training the encoder itself (the
// MLP or LSTM) is not lowered yet.
import { UserError } from "../../errors.js";
import type { InputHook } from "../../graph/input-site.js";

export const pTuningGraph: InputHook = {
  prompts(site, ctx) {
    if (ctx.g.training) throw new UserError(`training P-tuning's prompt encoder is not supported yet (adapter '${ctx.adapter.name}'); P-tuning adapters saved by PEFT evaluate and generate`);
    // Zeros only until the saved rows are loaded over them: a P-tuning adapter here always comes from its files.
    return { value: ctx.g.frozen("prompt_embeddings", [site.virtualTokens, site.dim], { kind: "zeros" }, "prompt_embeddings") };
  },
};
