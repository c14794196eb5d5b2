// What a training graph keeps between its forward and its backward. The
// numbers these choices must not change are checked elsewhere (every LoRA
// gradient against central differences, evaluation logits against
// transformers'); here, that the memory-saving lowerings are the ones taken.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lowerCausalLM } from "../../compiler/graph/causal-lm.js";
import type { Graph } from "../../compiler/graph/types.js";
import { PORTABLE_GPU } from "../../compiler/codegen/types.js";
import { loadModel } from "../../compiler/models/load.js";
import { buildPlan } from "../../compiler/resolve/plan.js";
import { analyzeSpec } from "../../compiler/spec/analyze.js";
import { tinyModel } from "../helpers/fixtures.js";

const OPTIMIZER = { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1 };

function lower(kind: "llama" | "gpt2", adapter: string, train: boolean): Graph {
  const model = loadModel(tinyModel(kind));
  const spec = analyzeSpec({ path: "t.peft", text: `peft 1\n${adapter}\n` });
  const plan = buildPlan(spec.ir!, model.tree).plan!;
  return lowerCausalLM({ tree: model.tree, plan, batch: 2, seqLen: 8, device: PORTABLE_GPU, ...(train ? { optimizer: OPTIMIZER } : {}) }).graph;
}

const names = (g: Graph) => new Set(g.buffers.map((b) => b.name));
const labels = (g: Graph) => Object.values(g.phases).flat().map((o) => o.label);

test("frozen MLPs take their activations' gradients in place, and the logits' gradient overwrites the logits", () => {
  const llama = lower("llama", 'adapter a: lora { r = 4  target "q_proj", "v_proj" }', true);
  const buffers = names(llama);
  assert.not.ok([...buffers].some((n) => /^d:model\.layers\.\d+\.(gate|up)$/.test(n)), "a separate gradient buffer for a frozen MLP's gate or up");
  assert.not.ok(buffers.has("d:logits"), "a separate gradient buffer for the logits");
  assert.ok(labels(llama).some((l) => l.endsWith("swiglu backward (in place)")));
  const gpt2 = lower("gpt2", 'adapter a: lora { r = 4  target "c_attn" }', true);
  assert.ok(labels(gpt2).some((l) => l.endsWith("gelu backward (in place)")));
  // An adapted MLP keeps its own gradient buffers: its backward may read the activations.
  const mlp = lower("llama", 'adapter a: lora { r = 4  target "up_proj" }', true);
  assert.ok(names(mlp).has("d:model.layers.0.gate"));
});

test("an adapted linear's backward reads its normed input recomputed from the block input, not kept from the forward", () => {
  const g = lower("llama", 'adapter a: lora { r = 4  target "q_proj" }', true);
  const backward = g.phases.backward;
  const again = backward.findIndex((o) => o.label === "model.layers.0.input_layernorm forward again");
  assert.ok(again >= 0, "no recomputation of the normed input");
  const q = backward.findIndex((o) => o.label.startsWith("model.layers.0.self_attn.q_proj"));
  assert.ok(q >= 0 && again < q, "the recomputation comes before its reader");
  assert.not.ok(backward.some((o) => Object.values(o.bind).includes("model.layers.0.n1")), "the backward reads the forward's normed input");
  // The first block's input is the embedding gather, repeated rather than kept.
  const embedAgain = backward.findIndex((o) => o.label === "embed forward again");
  assert.ok(embedAgain >= 0 && embedAgain < again, "the embeddings are gathered again before the normed input is recomputed");
  assert.not.ok(backward.some((o) => Object.values(o.bind).includes("embed.out")), "the backward reads the forward's embeddings");
});

test("evaluation graphs keep their logits for the host: the cross-entropy computes the loss alone and writes no gradient", () => {
  const g = lower("llama", 'adapter a: lora { r = 4  target "q_proj" }', false);
  assert.not.ok([...names(g)].some((n) => n.includes("d:logits")), "a gradient buffer for the logits");
  for (const ce of [...g.phases.loss, ...g.phases.eval].filter((o) => o.label === "cross-entropy")) {
    assert.equal(Object.keys(ce.bind).sort(), ["labels", "logits", "loss"]);
    const logits = g.kernels[ce.kernel]!.bindings.find((b) => b.name === "logits")!;
    assert.is(logits.access, "read");
  }
});

test.run();
