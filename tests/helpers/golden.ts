// Golden files made by Hugging Face transformers + PEFT (tests/golden/*.py):
// reading their expected tensors, and running peftc's forward on their inputs
// with an adapter directory, for comparison.
import { join } from "node:path";
import * as assert from "uvu/assert";
import { lowerCausalLM } from "../../compiler/graph/causal-lm.js";
import { lowerMerge } from "../../compiler/graph/merge.js";
import { loadModel, type LoadedModel } from "../../compiler/models/load.js";
import { loadPeftAdapters, type LoadedAdapter } from "../../compiler/peft-config/load-adapter.js";
import { readFloat32 } from "../../runtime/files/checkpoint.js";
import { SafetensorsFile, readTensorBytes, toFloat32 } from "../../runtime/files/safetensors.js";
import { GraphRunner } from "../../runtime/executor/graph-runner.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import type { FixtureKind } from "../fixtures/models.js";
import { tinyModel } from "./fixtures.js";
import { testDevice } from "./gpu.js";
import { idsOf, targetsOf } from "../../runtime/data/batches.js";
import { relativeError, worstDifference } from "./compare.js";
import { repoRoot } from "./paths.js";

export const goldenDir = join(repoRoot, "tests", "golden");

/** The fixture model a golden case was made on, from its name's suffix. */
export function kindOfCase(name: string): FixtureKind {
  return name.endsWith("gpt2") ? "gpt2" : name.includes("qwen2") ? "qwen2" : "llama";
}

export interface Expected {
  file: SafetensorsFile;
  has(key: string): boolean;
  read(key: string): Float32Array;
  /** input_ids as rows. */
  ids(): number[][];
  /** merged.<tensor> entries, by tensor name. */
  merged(): Map<string, Float32Array>;
}

export function readExpected(path: string): Expected {
  const file = SafetensorsFile.open(path);
  const read = (key: string) => {
    const info = file.tensors.get(key);
    if (!info) throw new Error(`${path}: no '${key}'`);
    return toFloat32(readTensorBytes(info), info.dtype);
  };
  return {
    file,
    has: (key) => file.tensors.has(key),
    read,
    ids() {
      const [B, T] = file.tensors.get("input_ids")!.shape as [number, number];
      const flat = [...read("input_ids")];
      return Array.from({ length: B }, (_, b) => flat.slice(b * T, (b + 1) * T));
    },
    merged: () => new Map([...file.tensors.keys()].filter((k) => k.startsWith("merged.")).map((k) => [k.slice("merged.".length), read(k)])),
  };
}

export interface GoldenForward {
  model: LoadedModel;
  adapter: LoadedAdapter;
  expected: Expected;
  logits: Float32Array;
  /** The mean next-token loss over the batch (every position but the last of each row; after virtual tokens, every position). */
  loss: number;
  /** Tokens the loss is the mean over. */
  predicted: number;
}

/** peftc's eval forward of a fixture model with an adapter directory, on the golden case's input ids. */
export async function goldenForward(adapterDir: string, kind: FixtureKind): Promise<GoldenForward> {
  await testDevice();
  const runtime = await acquireRuntime();
  const model = loadModel(tinyModel(kind));
  const [adapter] = loadPeftAdapters(adapterDir, model.tree);
  const expected = readExpected(join(adapterDir, "expected.safetensors"));
  const ids = expected.ids();
  const B = ids.length;
  const T = ids[0]!.length;
  const { graph, wgsl } = lowerCausalLM({ tree: model.tree, plan: adapter!.plan, batch: B, seqLen: T, device: runtime.profile });
  const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), saved: (k) => adapter!.tensors.get(k), seed: 0 });
  try {
    // A prompt adapter's virtual tokens come first: every real token is then predicted, the first by the last virtual token.
    const n = graph.io.virtualTokens ?? 0;
    const rows = n + T;
    const sequences = ids.map((row) => ({ ids: Int32Array.from(row), labels: Int32Array.from(row) }));
    const targets = targetsOf(sequences, T, n);
    runner.write("ids", idsOf(sequences, T, n));
    runner.write("labels", targets);
    runner.setScalar("training", 0);
    await runner.run(["eval"]);
    const V = model.tree.config.vocabSize;
    const losses = new Float32Array(B * rows);
    const all = new Float32Array(B * rows * V);
    await runner.read(graph.io.loss!, losses);
    await runner.read(graph.io.logits!, all);
    // The real tokens' rows, as the golden files keep them.
    const logits = new Float32Array(B * T * V);
    for (let b = 0; b < B; b++) logits.set(all.subarray((b * rows + n) * V, (b + 1) * rows * V), b * T * V);
    let sum = 0;
    let predicted = 0;
    targets.forEach((t, i) => {
      if (t >= 0) {
        sum += losses[i]!;
        predicted++;
      }
    });
    return { model, adapter: adapter!, expected, logits, loss: sum / predicted, predicted };
  } finally {
    runner.destroy();
  }
}

/**
 * Merges a golden adapter directory into its fixture model on the GPU and
 * checks: every weight PEFT's merge_and_unload changed is changed here, to a
 * relative `tolerance`, by far more than the error; unmerging restores every
 * touched tensor to a few float32 roundings of the base.
 */
export async function checkMergeGolden(adapterDir: string, kind: FixtureKind, tolerance = 1e-5): Promise<void> {
  await testDevice();
  const runtime = await acquireRuntime();
  const model = loadModel(tinyModel(kind));
  const [adapter] = loadPeftAdapters(adapterDir, model.tree);
  const want = readExpected(join(adapterDir, "expected.safetensors")).merged();
  assert.ok(want.size > 0, "the golden file has merged weights");
  const { graph, wgsl, merged } = lowerMerge({ tree: model.tree, adapters: [{ adapter: adapter!.adapter, scale: 1 }], device: runtime.profile });
  const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), saved: (k) => adapter!.tensors.get(k), seed: 0 });
  const read = async (buffer: string, size: number) => {
    const out = new Float32Array(size);
    await runner.read(buffer, out);
    return out;
  };
  try {
    await runner.run(["merge"]);
    const changed = merged.filter((m) => want.has(m.tensor));
    // PEFT's state dict lists a tied lm_head beside the embedding it shares; the checkpoint (and the merge) has the one tensor.
    const stored = [...want.keys()].filter((k) => model.checkpoint.tensors.has(k));
    assert.equal(changed.map((m) => m.tensor).sort(), stored.sort());
    for (const m of changed) {
      const expected = want.get(m.tensor)!;
      const error = relativeError(await read(m.buffer, expected.length), expected);
      assert.ok(error <= tolerance, `${m.tensor}: relative error ${error}`);
      assert.ok(relativeError(readFloat32(model.checkpoint, m.tensor), expected) > 100 * Math.max(error, 1e-9), `${m.tensor}: PEFT's merge barely changes it`);
    }
    const mergedScale = new Map<string, number>();
    for (const m of merged) mergedScale.set(m.tensor, Math.max(...(await read(m.buffer, readFloat32(model.checkpoint, m.tensor).length)).map(Math.abs)));
    await runner.run(["unmerge"]);
    for (const m of merged) {
      const base = readFloat32(model.checkpoint, m.tensor);
      const { worst, scale } = worstDifference(await read(m.buffer, base.length), base);
      // A few roundings of the merged value: ~1e-7 of the larger of the base's and the merged weights' scale.
      const bound = 3.2e-6 * Math.max(scale, mergedScale.get(m.tensor)!);
      assert.ok(worst <= bound, `${m.tensor}: unmerged differs from the base by ${worst} (bound ${bound})`);
    }
  } finally {
    runner.destroy();
  }
}

/**
 * peftc's forward with a golden adapter gives transformers + PEFT's logits (to
 * a relative 1e-4 of the largest logit, while the adapter moves them by a
 * hundred times more) and loss (1e-5). Returns the run for further checks.
 */
export async function checkForwardGolden(adapterDir: string, kind: FixtureKind): Promise<GoldenForward> {
  const run = await goldenForward(adapterDir, kind);
  const want = run.expected.read("logits.adapter");
  const { worst, scale } = worstDifference(run.logits, want);
  const change = worstDifference(want, run.expected.read("logits.base")).worst;
  assert.ok(change > 100 * worst, `the adapter changes logits by ${change}, our error is ${worst}`);
  assert.ok(worst / scale < 1e-4, `largest logit difference ${worst} (logits up to ${scale})`);
  const wantLoss = run.expected.read("loss.adapter")[0]!;
  assert.ok(Math.abs(run.loss - wantLoss) / wantLoss < 1e-5, `loss ${run.loss} vs transformers' ${wantLoss}`);
  return run;
}
