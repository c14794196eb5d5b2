// Trainable-parameter counts for every method on the fixture models, each
// expected number worked out here from PEFT's shapes (PEFT-NOTES.md), not
// from the planner's code.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { factorization } from "../../compiler/methods/lokr/factorization.js";
import { nearestDivisor } from "../../compiler/methods/oft/tensors.js";
import { loadModel } from "../../compiler/models/load.js";
import { buildPlan } from "../../compiler/resolve/plan.js";
import { analyzeSpec } from "../../compiler/spec/analyze.js";
import type { Plan } from "../../compiler/resolve/plan-types.js";
import { tinyModel } from "../helpers/fixtures.js";

// Tiny llama: hidden 64, 4 heads of 16 with 2 kv heads (k, v are 64→32), mlp 176, 4 blocks, vocab 334.
const LLAMA_BASE = 227_648;

function plan(kind: "llama" | "qwen2" | "gpt2", adapter: string): { plan: Plan; warnings: string[] } {
  const text = `peft 1\n${adapter}\n`;
  const spec = analyzeSpec({ path: "count.peft", text });
  assert.ok(spec.ir, spec.diagnostics.map((d) => d.message).join("\n"));
  const { tree } = loadModel(tinyModel(kind));
  const result = buildPlan(spec.ir!, tree, { spans: spec.spans });
  assert.ok(result.plan, result.diagnostics.map((d) => d.message).join("\n"));
  return { plan: result.plan!, warnings: result.diagnostics.filter((d) => d.severity === "warning").map((d) => d.message) };
}

const cases: [string, "llama" | "qwen2" | "gpt2", string, number, number?][] = [
  // [name, model, adapter, trainable, added (default: = trainable)]
  ["lora q,v", "llama", 'adapter a: lora { r = 8  target "q_proj", "v_proj" }', 4 * (8 * (64 + 64) + 8 * (64 + 32))],
  ["lora + dora", "llama", 'adapter a: lora { r = 8  use_dora = true  target "q_proj", "v_proj" }', 4 * (8 * 128 + 64 + 8 * 96 + 32)],
  ["lora on an embedding", "llama", 'adapter a: lora { r = 4  target "embed_tokens" }', 4 * 334 + 64 * 4],
  ["lora on GPT-2 Conv1D", "gpt2", 'adapter a: lora { r = 4  target "c_attn" }', 3 * 4 * (64 + 192)],
  ["lora bias=all trains every bias, adds none", "qwen2", 'adapter a: lora { r = 2  bias = all  target "q_proj" }', 3 * (2 * (48 + 48)) + 3 * (48 + 16 + 16), 3 * 2 * 96],
  ["lora bias=lora_only trains the adapted modules' biases", "qwen2", 'adapter a: lora { r = 2  bias = lora_only  target "q_proj" }', 3 * 2 * 96 + 3 * 48, 3 * 2 * 96],
  ["lora with modules_to_save", "llama", 'adapter a: lora { r = 8  modules_to_save = ["lm_head"]  target "q_proj" }', 4 * 1024 + 334 * 64],
  ["lora rank per target", "llama", 'adapter a: lora { r = 8  target "q_proj"  target "layers.[0..1].self_attn.q_proj" { r = 2 } }', 2 * 8 * 128 + 2 * 2 * 128],
  ["loha", "llama", 'adapter a: loha { r = 4  target "up_proj", "down_proj" }', 4 * (2 * 4 * (64 + 176) * 2)],
  ["lokr, both decomposed at r = 4", "llama", 'adapter a: lokr { r = 4  decompose_both = true  target "q_proj", "v_proj" }', 4 * (64 + 64 + 32 + 64)],
  ["lokr, r = 2 decomposes both factors", "llama", 'adapter a: lokr { r = 2  decompose_both = true  target "q_proj" }', 4 * (8 * 2 + 2 * 8 + 8 * 2 + 2 * 8)],
  ["lokr with decompose_factor 4", "llama", 'adapter a: lokr { r = 4  decompose_factor = 4  target "q_proj" }', 4 * (4 * 4 + 16 * 4 + 4 * 16)],
  ["oft, blocks of 8", "llama", 'adapter a: oft { block_size = 8  target "mlp.*_proj" }', 4 * (8 * 28 + 8 * 28 + 22 * 28)],
  ["oft, r = 4 blocks", "llama", 'adapter a: oft { r = 4  target "q_proj" }', 4 * 4 * 120],
  ["oft, one shared block", "llama", 'adapter a: oft { r = 4  block_share = true  target "q_proj" }', 4 * 120],
  ["boft, 2 butterfly factors", "llama", 'adapter a: boft { block_size = 4  butterfly_factor = 2  target "q_proj", "v_proj" }', 4 * (2 * 16 * 16 + 64 + 2 * 16 * 16 + 32)],
  ["boft, block_num", "llama", 'adapter a: boft { block_num = 8  target "q_proj" }', 4 * (8 * 8 * 8 + 64)],
  ["adalora: E counts, ranknum is a frozen parameter", "llama", 'adapter a: adalora { init_r = 12  total_step = 100  target "q_proj", "v_proj" }', 4 * (12 * 128 + 12 + 12 * 96 + 12), 4 * (12 * 128 + 12 + 12 * 96 + 12 + 2)],
  ["ia3 with a feed-forward target", "llama", 'adapter a: ia3 { target "k_proj", "v_proj", "down_proj"  feedforward = ["down_proj"] }', 4 * (32 + 32 + 176)],
  ["vera: projections are buffers", "llama", 'adapter a: vera { r = 32  target "q_proj", "v_proj" }', 4 * (64 + 32 + 32 + 32)],
  ["prompt tuning", "llama", "adapter a: prompt_tuning { virtual_tokens = 8 }", 8 * 64],
  ["prefix tuning: GQA prefixes are kv_heads·head_dim wide", "llama", "adapter a: prefix_tuning { virtual_tokens = 10 }", 10 * (4 * 2 * 32)],
  ["prefix tuning with projection", "llama", "adapter a: prefix_tuning { virtual_tokens = 10  projection = true  encoder_hidden_size = 64 }", 10 * 32 + (64 * 32 + 64) + (256 * 64 + 256)],
  ["p-tuning, MLP encoder", "llama", "adapter a: p_tuning { virtual_tokens = 12  encoder_hidden_size = 64 }", 12 * 64 + 3 * (64 * 64 + 64)],
  ["p-tuning, LSTM encoder", "llama", "adapter a: p_tuning { virtual_tokens = 4  encoder = lstm  encoder_hidden_size = 8  encoder_layers = 2 }",
    4 * 64 + 2 * (4 * 8 * 64 + 4 * 8 * 8 + 8 * 8) + 2 * (4 * 8 * 16 + 4 * 8 * 8 + 8 * 8) + (16 * 16 + 16) + (64 * 16 + 64)],
  ["llama-adapter on the top 2 blocks", "llama", "adapter a: llama_adapter { adapter_len = 6  adapter_layers = 2 }", 2 * (6 * 64 + 1)],
  ["llama-adapter on GPT-2's attn", "gpt2", "adapter a: llama_adapter { adapter_len = 3  adapter_layers = 1 }", 3 * 64 + 1],
  ["full tuning of lm_head, in place", "llama", 'adapter a: full { target "lm_head" }', 334 * 64, 0],
  ["ln tuning: a trained copy of each norm", "llama", "adapter a: ln_tuning { }", 9 * 64],
  ["bitfit on GPT-2: every bias (norms' too)", "gpt2", "adapter a: bitfit { }", 3 * (64 + 192 + 64 + 64 + 256 + 64) + 64, 0],
];

for (const [name, kind, adapter, trainable, added] of cases) {
  test(`count: ${name}`, () => {
    const { plan: p } = plan(kind, adapter);
    const a = p.adapters[0]!;
    assert.is(a.trainable, trainable, "trainable");
    assert.is(a.added, added ?? trainable, "added");
    const base = p.model.parameters;
    const all = base + a.added;
    const percent = ((100 * trainable) / all).toFixed(4);
    assert.is(a.peftLine, `trainable params: ${trainable.toLocaleString("en-US")} || all params: ${all.toLocaleString("en-US")} || trainable%: ${percent}`);
  });
}

test("the tiny llama has the parameter count its shapes give", () => {
  assert.is(plan("llama", 'adapter a: lora { target "q_proj" }').plan.model.parameters, LLAMA_BASE);
});

test("LoKr's factorization follows PEFT's, including the unordered factor case", () => {
  const table: [number, number, [number, number]][] = [
    [256, -1, [16, 16]], [128, -1, [8, 16]], [127, -1, [1, 127]], [768, -1, [24, 32]], [3072, -1, [48, 64]],
    [4096, -1, [64, 64]], [11008, -1, [86, 128]], [128, 4, [4, 32]], [128, 8, [8, 16]], [768, 4, [4, 192]],
    [768, 8, [8, 96]], [100, 8, [5, 20]], [16, 8, [8, 2]], [8, 4, [4, 2]], [64, -1, [8, 8]], [32, -1, [4, 8]], [176, -1, [11, 16]],
  ];
  for (const [dimension, factor, expected] of table) assert.equal(factorization(dimension, factor), expected, `${dimension}, ${factor}`);
});

test("OFT moves a block size that does not divide the layer to the nearest divisor, as PEFT does", () => {
  assert.is(nearestDivisor(64, 12), 8); // 8 and 16 are equally near: the lower wins
  assert.is(nearestDivisor(64, 15), 16);
  assert.is(nearestDivisor(176, 10), 11);
  assert.is(nearestDivisor(64, 100), 64);
  const { plan: p, warnings } = plan("llama", 'adapter a: oft { block_size = 12  target "q_proj" }');
  assert.is(p.adapters[0]!.trainable, 4 * 8 * 28);
  assert.ok(warnings.some((w) => w.includes("block_size = 12 does not divide the 64 input features: 8 is used")), warnings.join("\n"));
});

test.run();
