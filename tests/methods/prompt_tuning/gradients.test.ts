// Prompt tuning on the GPU: the gradient of the prompt embeddings agrees
// with central differences of the float64 reference loss (virtual rows added
// to the input embeddings, positions counting them: RoPE on Llama, learned
// positions on GPT-2), and PEFT's inits: TEXT gives exactly the embeddings
// PEFT's own init gave for the same text (the untrained adapters PEFT saved
// in tests/golden/prompts), SAMPLE_VOCAB rows of the vocabulary.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lowerCausalLM } from "../../../compiler/graph/causal-lm.js";
import { loadModel } from "../../../compiler/models/load.js";
import { buildPlan } from "../../../compiler/resolve/plan.js";
import { analyzeSpec } from "../../../compiler/spec/analyze.js";
import { idsOf, targetsOf } from "../../../runtime/data/batches.js";
import { readFloat32 } from "../../../runtime/files/checkpoint.js";
import { SafetensorsFile, readTensorBytes, toFloat32 } from "../../../runtime/files/safetensors.js";
import { GraphRunner } from "../../../runtime/executor/graph-runner.js";
import { acquireRuntime } from "../../../runtime/gpu/index.js";
import { loadTokenizer } from "../../../runtime/data/tokenizer.js";
import { checkGradients, trainedViews } from "../../helpers/gradcheck.js";
import { baseWeights, randomIds } from "../../helpers/graph.js";
import { goldenDir } from "../../helpers/golden.js";
import { tinyModel } from "../../helpers/fixtures.js";
import { testDevice } from "../../helpers/gpu.js";
import { referenceLoss } from "../../reference/model.js";
import type { FixtureKind } from "../../fixtures/models.js";

const OPTIMIZER = { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0 };

async function promptGraph(kind: FixtureKind, adapter: string, shape: { batch: number; seqLen: number }, optimizer = true) {
  await testDevice();
  const runtime = await acquireRuntime();
  const spec = analyzeSpec({ path: "test.peft", text: `peft 1\n${adapter}\n` });
  const model = loadModel(tinyModel(kind));
  const plan = buildPlan(spec.ir!, model.tree).plan!;
  const { graph, wgsl } = lowerCausalLM({ tree: model.tree, plan, ...shape, device: runtime.profile, ...(optimizer ? { optimizer: OPTIMIZER } : {}) });
  const tokenizer = loadTokenizer(model.tree.dir);
  const runner = await GraphRunner.create(runtime, graph, wgsl, {
    weight: (n) => readFloat32(model.checkpoint, n), tokenize: (text) => tokenizer.encodeWithSpecial(text), seed: 11,
  });
  return { model, graph, runner };
}

async function flatParams(runner: GraphRunner, role: "parameter" | "gradient" = "parameter") {
  const size = runner.graph.buffers.find((b) => b.name === "params")!.size;
  const flat = new Float32Array(size);
  await runner.read(role === "parameter" ? "params" : "grads", flat);
  return trainedViews(runner.graph, flat, role);
}

for (const kind of ["llama", "gpt2"] as const) {
  test(`prompt tuning gradients agree with central differences of the reference (${kind})`, async () => {
    const n = 3;
    const T = 6;
    const { model, graph, runner } = await promptGraph(kind, `adapter a: prompt_tuning { virtual_tokens = ${n} }`, { batch: 2, seqLen: T });
    try {
      assert.is(graph.io.virtualTokens, n);
      assert.is(graph.seqLen, n + T);
      const ids = randomIds(2, T, model.tree.config.vocabSize, 3);
      const sequences = ids.map((row) => ({ ids: Int32Array.from(row), labels: Int32Array.from(row) }));
      const targets = targetsOf(sequences, T, n);
      runner.write("ids", idsOf(sequences, T, n));
      runner.write("labels", targets);
      runner.setScalar("gradScale", 1 / [...targets].filter((t) => t >= 0).length);
      await runner.run(["forward", "loss", "backward"], graph.zeroBeforeStep);
      const params = new Map([...(await flatParams(runner))].map(([k, v]) => [k, Float64Array.from(v)]));
      const grads = await flatParams(runner, "gradient");
      assert.equal([...params.keys()], ["prompt_embeddings"]);
      const base = baseWeights(model);
      // The reference sees the sequences as the graph does: −1 ids on the virtual rows, −100 labels there.
      const withVirtual = ids.map((row) => [...Array(n).fill(-1), ...row]);
      const labels = ids.map((row) => [...Array(n).fill(-100), ...row]);
      const loss = () => referenceLoss(model.tree, base, withVirtual, labels, params.get("prompt_embeddings")).mean;
      checkGradients(params, grads, loss);
    } finally {
      runner.destroy();
    }
  });
}

function savedPrompts(name: string): Float32Array {
  const file = SafetensorsFile.open(join(goldenDir, "prompts", name, "adapter_model.safetensors"));
  const info = file.tensors.get("prompt_embeddings")!;
  return toFloat32(readTensorBytes(info), info.dtype);
}

const TEXT_CASES: [string, FixtureKind, number, string][] = [
  ["prompt-tuning-text-llama", "llama", 3, "hello world and more words"],
  ["prompt-tuning-text-qwen2", "qwen2", 6, "the cat"],
];

for (const [name, kind, n, text] of TEXT_CASES) {
  test(`a TEXT init gives PEFT's initial prompt embeddings exactly (${name}: the text's tokens ${n > 3 ? "repeated" : "cut"} to ${n})`, async () => {
    const { runner } = await promptGraph(kind, `adapter a: prompt_tuning { virtual_tokens = ${n}  init = text(${JSON.stringify(text)}) }`, { batch: 1, seqLen: 4 });
    try {
      const ours = (await flatParams(runner)).get("prompt_embeddings")!;
      assert.equal([...ours], [...savedPrompts(name)]);
    } finally {
      runner.destroy();
    }
  });
}

test("a SAMPLE_VOCAB init gives rows of the vocabulary", async () => {
  const { model, runner } = await promptGraph("gpt2", "adapter a: prompt_tuning { virtual_tokens = 5  init = sample_vocab }", { batch: 1, seqLen: 4 });
  try {
    const ours = (await flatParams(runner)).get("prompt_embeddings")!;
    const D = model.tree.config.hiddenSize;
    const table = readFloat32(model.checkpoint, "transformer.wte.weight");
    const rows = table.length / D;
    const ids = new Set<number>();
    for (let r = 0; r < 5; r++) {
      const row = ours.subarray(r * D, (r + 1) * D);
      const id = Array.from({ length: rows }, (_, v) => v).find((v) => row.every((x, i) => x === table[v * D + i]));
      assert.ok(id !== undefined, `row ${r} is not a row of the vocabulary`);
      ids.add(id);
    }
    assert.ok(ids.size > 1, "different rows were drawn");
  } finally {
    runner.destroy();
  }
});

test.run();
