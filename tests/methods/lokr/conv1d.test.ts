// PEFT's LoKr adapts nn.Linear (and convolutions) only: GPT-2's Conv1D raises
// "Target module of type Conv1D not supported". peftc refuses the same layers
// when the spec is checked, naming each, for plain targets and all_linear alike.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModel } from "../../../compiler/models/load.js";
import { buildPlan } from "../../../compiler/resolve/plan.js";
import { analyzeSpec } from "../../../compiler/spec/analyze.js";
import { tinyModel } from "../../helpers/fixtures.js";

function plan(adapter: string) {
  const spec = analyzeSpec({ path: "t.peft", text: `peft 1\n${adapter}\n` });
  assert.ok(spec.ir, spec.diagnostics.map((d) => d.message).join("\n"));
  return buildPlan(spec.ir!, loadModel(tinyModel("gpt2")).tree);
}

test("LoKr on GPT-2's Conv1D layers is refused, as PEFT refuses it", () => {
  for (const target of ['"c_attn"', "all_linear"]) {
    const result = plan(`adapter a: lokr { r = 4  target ${target} }`);
    assert.is(result.plan, undefined, `${target}: planned`);
    const messages = result.diagnostics.map((d) => d.message);
    assert.ok(messages.includes("lokr cannot adapt transformer.h.0.attn.c_attn, a conv1d layer (it adapts linear layers)"), messages.join("\n"));
  }
});

test("LoKr on GPT-2's lm_head (an nn.Linear) is planned", () => {
  const result = plan('adapter a: lokr { r = 4  target "lm_head" }');
  assert.equal(result.plan?.adapters[0]!.modules.map((m) => m.path), ["lm_head"]);
});

test.run();
