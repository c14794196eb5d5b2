// What prompt adapters cannot do yet, or at all, says so: generation (the
// virtual tokens are not put into the KV cache yet), a mixed-adapter batch
// (PEFT cannot mix prompt lengths either) and two prompt adapters at once.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lowerCausalLM } from "../../../compiler/graph/causal-lm.js";
import { lowerDecode } from "../../../compiler/graph/decode.js";
import { PORTABLE_GPU } from "../../../compiler/codegen/types.js";
import { UserError } from "../../../compiler/errors.js";
import { loadModel } from "../../../compiler/models/load.js";
import { buildPlan } from "../../../compiler/resolve/plan.js";
import { analyzeSpec } from "../../../compiler/spec/analyze.js";
import { tinyModel } from "../../helpers/fixtures.js";

function planOf(adapters: string) {
  const model = loadModel(tinyModel("llama"));
  const spec = analyzeSpec({ path: "t.peft", text: `peft 1\n${adapters}\n` });
  return { tree: model.tree, plan: buildPlan(spec.ir!, model.tree).plan! };
}

function refuses(f: () => unknown, words: RegExp): void {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof UserError, `a UserError, not ${String(e)}`);
    assert.match((e as Error).message, words);
    return;
  }
  assert.unreachable("it was accepted");
}

test("generation with a prompt adapter is refused, not run with prompts in every chunk", () => {
  const { tree, plan } = planOf("adapter a: prompt_tuning { virtual_tokens = 2 }");
  refuses(() => lowerDecode({ tree, plan, device: PORTABLE_GPU, batch: 1, chunk: 4, capacity: 16 }), /generating with prompt_tuning adapters is not supported yet/);
});

test("a prompt adapter in a mixed batch, and two prompt adapters at once, are refused", () => {
  const { tree, plan } = planOf("adapter a: prompt_tuning { virtual_tokens = 2 }\nadapter b: lora { r = 2 target \"q_proj\" }");
  refuses(() => lowerCausalLM({ tree, plan, device: PORTABLE_GPU, batch: 2, seqLen: 4, mixed: {} }), /mixed-adapter batch/);
  const two = planOf("adapter a: prompt_tuning { virtual_tokens = 2 }\nadapter b: prompt_tuning { virtual_tokens = 3 }");
  refuses(() => lowerCausalLM({ tree: two.tree, plan: two.plan, device: PORTABLE_GPU, batch: 2, seqLen: 4 }), /both put virtual tokens/);
});

test("virtual tokens count against the model's positions", () => {
  const { tree, plan } = planOf("adapter a: prompt_tuning { virtual_tokens = 8 }");
  refuses(() => lowerCausalLM({ tree, plan, device: PORTABLE_GPU, batch: 1, seqLen: tree.config.maxPositions - 4 }), /virtual tokens a sequence are more than/);
});

test.run();
