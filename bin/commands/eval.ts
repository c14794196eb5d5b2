import { resolve } from "node:path";
import { UserError } from "../../compiler/errors.js";
import { lowerCausalLM } from "../../compiler/graph/causal-lm.js";
import { loadModel } from "../../compiler/models/load.js";
import { ModelError } from "../../compiler/models/types.js";
import { loadPeftAdapters } from "../../compiler/peft-config/load-adapter.js";
import { buildPlan } from "../../compiler/resolve/plan.js";
import type { Plan } from "../../compiler/resolve/plan-types.js";
import { toSequences } from "../../runtime/data/batches.js";
import { DataError } from "../../runtime/data/examples.js";
import { TokenizerError } from "../../runtime/data/tokenizer.js";
import { GraphRunner } from "../../runtime/executor/graph-runner.js";
import { readFloat32 } from "../../runtime/files/checkpoint.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import { evaluate } from "../../runtime/train/trainer.js";
import type { Io } from "../io.js";
import { readData } from "./data.js";

export interface EvalOptions {
  model: string;
  adapter?: string;
  data: string;
  json?: boolean;
  batch?: number;
  seqLen?: number;
}

/**
 * Mean next-token cross-entropy (and perplexity) of a model, with a PEFT
 * adapter or without, over a JSONL file: one example a sequence.
 */
export async function evalCommand(io: Io, options: EvalOptions): Promise<number> {
  try {
    const model = loadModel(resolve(options.model));
    let plan: Plan;
    let saved = new Map<string, Float32Array>();
    if (options.adapter) {
      const adapters = loadPeftAdapters(resolve(options.adapter), model.tree);
      // PEFT's default adapter: the top of the directory, else the first subfolder.
      const chosen = adapters[0]!;
      for (const w of chosen.warnings) io.err(`warning: ${w}`);
      if (adapters.length > 1) io.err(`note: ${options.adapter} holds ${adapters.length} adapters; evaluating '${chosen.name}'`);
      plan = chosen.plan;
      saved = chosen.tensors;
    } else {
      const base = buildPlan({ peft: 1, model: null, adapters: [], train: [] }, model.tree);
      plan = base.plan!;
    }
    const { examples, padId } = readData(model, resolve(options.data), "auto");
    const longest = Math.max(...examples.map((e) => e.ids.length));
    const seqLen = Math.min(options.seqLen ?? longest, model.tree.config.maxPositions);
    if (longest > seqLen) io.err(`note: examples longer than ${seqLen} tokens are cut to ${seqLen}`);
    const batch = Math.min(options.batch ?? 8, examples.length);
    const runtime = await acquireRuntime();
    const { graph, wgsl } = lowerCausalLM({ tree: model.tree, plan, batch, seqLen, device: runtime.profile });
    const runner = await GraphRunner.create(runtime, graph, wgsl, {
      weight: (name) => readFloat32(model.checkpoint, name),
      saved: (key) => saved.get(key),
      seed: 0,
    });
    try {
      const result = await evaluate(runner, toSequences(examples, seqLen, false, padId));
      if (options.json) {
        io.out(JSON.stringify({ loss: result.loss, tokens: result.tokens, per_example: result.perSequence }));
      } else {
        io.out(`loss ${result.loss.toFixed(4)}  perplexity ${Math.exp(result.loss).toFixed(3)}  over ${result.tokens} predicted tokens in ${examples.length} examples`);
      }
    } finally {
      runner.destroy();
    }
    return 0;
  } catch (e) {
    if (e instanceof DataError || e instanceof TokenizerError || e instanceof ModelError) throw new UserError(e.message);
    throw e;
  }
}
