// Mixed-adapter batches (PEFT's adapter_names): each row of one batch runs
// with its own adapter, or none, and gets the logits it gets alone with that
// adapter. LoRA's fused path (stacked A and B, one GEMM) and the lowering's
// generic fallback (each adapter's hook, then a row select) are both checked,
// in the evaluation graph and in the generation graph; a DoRA adapter, which
// the fused path does not take, and other methods' adapters (LoHa, VeRA) mix
// with fused ones in the same batch, and so do LoRA adapters on the token
// embedding.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { LoadedModel } from "../../compiler/models/load.js";
import type { LoadedAdapter } from "../../compiler/peft-config/load-adapter.js";
import type { Plan } from "../../compiler/resolve/plan-types.js";
import { tinyModel } from "../helpers/fixtures.js";
import { randomIds } from "../helpers/graph.js";
import { argmax, basePlan, decodeSession, fullForward, loadFixture, loadGolden, relativeMax } from "./helpers.js";

const BOUND = 1e-5;
const CASES = [
  { name: "a", dir: "lora-llama" }, // q, v; r 4
  { name: "b", dir: "lora-layers-llama" }, // down_proj of layers 1 and 3; r 2
  { name: "c", dir: "lora-dora-rslora-patterns-llama" }, // DoRA on q, k, v, o; rank and alpha patterns
];

/**
 * Each row alone: the logits [rows, T, vocab] a graph with only its adapter (or
 * none) gives. All rows go through each single-adapter graph at once (the same
 * shapes as the mixed batch: shared kernels), and each row keeps its own.
 */
async function alone(model: LoadedModel, plan: Plan, adapters: LoadedAdapter[], rows: number[][], index: number[]): Promise<Float32Array[]> {
  const vocab = model.tree.config.vocabSize;
  const out: Float32Array[] = [];
  for (const i of [...new Set(index)]) {
    const single = i < 0 ? { plan: basePlan(model), adapters: [] } : { plan: { ...plan, adapters: [plan.adapters[i]!] }, adapters: [adapters[i]!] };
    const { logits, T } = await fullForward(model, single.plan, single.adapters, rows);
    index.forEach((j, r) => {
      if (j === i) out[r] = logits.slice(r * T * vocab, (r + 1) * T * vocab);
    });
  }
  return out;
}

async function checkEval(cases: { name: string; dir: string }[], index: number[], generic: boolean): Promise<void> {
  const model = loadFixture(tinyModel("llama"));
  const vocab = model.tree.config.vocabSize;
  const { plan, adapters } = loadGolden(model, cases);
  const seed = Math.floor(Math.random() * 2 ** 31);
  // 4 rows of 4 tokens: the golden tests' 16-row shapes, whose kernels are compiled already.
  const rows = randomIds(index.length, 16 / index.length, vocab, seed);
  const { logits, T } = await fullForward(model, plan, adapters, rows, { mixed: { generic }, adapterIndex: index });
  const want = await alone(model, plan, adapters, rows, index);
  const base = await alone(model, plan, adapters, rows, index.map(() => -1));
  for (let r = 0; r < rows.length; r++) {
    const got = logits.subarray(r * T * vocab, (r + 1) * T * vocab);
    const error = relativeMax(got, want[r]!);
    assert.ok(error <= BOUND, `row ${r} (adapter ${index[r]}): relative error ${error.toExponential(2)} (seed ${seed})`);
    // The row's adapter moves its logits far more than the error: a wrong adapter would show.
    if (index[r]! >= 0) assert.ok(relativeMax(want[r]!, base[r]!) > 100 * BOUND, `row ${r}: its adapter barely changes the logits`);
  }
}

test("evaluation graph, LoRA's fused path: rows with adapter a, none, b, a get what each gets alone", async () => {
  await checkEval(CASES.slice(0, 2), [1, -1, 0, 1], false);
});

test("evaluation graph, generic fallback forced: the same rows agree too", async () => {
  await checkEval(CASES.slice(0, 2), [1, -1, 0, 1], true);
});

test("evaluation graph: a DoRA adapter (generic fallback) beside LoRA ones (fused where alone)", async () => {
  await checkEval(CASES, [2, 0, -1, 1], false);
});

test("evaluation graph: LoRA on the token embedding (per-adapter rows) beside LoRA on q, v (fused) and none", async () => {
  await checkEval([{ name: "embed", dir: "lora-embed-llama" }, CASES[0]!], [0, 1, -1, 0], false);
});

test("evaluation graph: LoHa and VeRA (generic fallback, VeRA's shared projections per adapter) beside LoRA (fused)", async () => {
  await checkEval([{ name: "loha", dir: "loha-llama" }, { name: "vera", dir: "vera-llama" }, CASES[0]!], [1, 0, -1, 2], false);
});

async function checkDecode(generic: boolean, cases = CASES, index = [0, 2, -1, 1]): Promise<void> {
  const model = loadFixture(tinyModel("llama"));
  const vocab = model.tree.config.vocabSize;
  const { plan, adapters } = loadGolden(model, cases);
  const session = await decodeSession(model, plan, adapters, { batch: index.length, chunk: 4, capacity: 24, mixed: { generic } });
  try {
    session.setAdapters(index);
    const seed = Math.floor(Math.random() * 2 ** 31);
    const prompts = index.map((_, r) => randomIds(1, 2 + r, vocab, seed + r)[0]!);
    const sequences = prompts.map((p) => [...p]);
    const steps = [Float32Array.from(await session.prefill(prompts))];
    for (let s = 0; s < 3; s++) {
      const next = sequences.map((_, b) => argmax(steps[s]!.subarray(b * vocab, (b + 1) * vocab)));
      next.forEach((t, b) => sequences[b]!.push(t));
      steps.push(Float32Array.from(await session.decode(next, sequences.map((q) => q.length - 1))));
    }
    const want = await alone(model, plan, adapters, sequences, index);
    steps.forEach((logits, s) => {
      sequences.forEach((_, b) => {
        const position = prompts[b]!.length - 1 + s;
        const error = relativeMax(logits.subarray(b * vocab, (b + 1) * vocab), want[b]!.subarray(position * vocab, (position + 1) * vocab));
        assert.ok(error <= 1e-4, `row ${b} (adapter ${index[b]}), step ${s}: relative error ${error.toExponential(2)} (seed ${seed})`);
      });
    });
  } finally {
    session.runner.destroy();
  }
}

test("generation graph: each sequence decodes with its own adapter (fused LoRA, DoRA by fallback, none)", async () => {
  await checkDecode(false);
});

test("generation graph, generic fallback forced", async () => {
  await checkDecode(true);
});

test("generation graph: a LoRA adapter on the token embedding beside one on q, v, and none", async () => {
  await checkDecode(false, [{ name: "embed", dir: "lora-embed-llama" }, CASES[0]!], [1, 0, -1, 0]);
});

test.run();
