// Building generation graphs and full forwards of fixture models for the
// generation tests.
import { join } from "node:path";
import { lowerCausalLM } from "../../compiler/graph/causal-lm.js";
import { lowerDecode } from "../../compiler/graph/decode.js";
import { loadModel, type LoadedModel } from "../../compiler/models/load.js";
import { loadPeftAdapters, type LoadedAdapter } from "../../compiler/peft-config/load-adapter.js";
import { buildPlan } from "../../compiler/resolve/plan.js";
import type { Plan } from "../../compiler/resolve/plan-types.js";
import { GraphRunner } from "../../runtime/executor/graph-runner.js";
import { readFloat32 } from "../../runtime/files/checkpoint.js";
import { DecodeSession } from "../../runtime/generate/session.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import { testDevice } from "../helpers/gpu.js";
import { repoRoot } from "../helpers/paths.js";

export const goldenAdapters = join(repoRoot, "tests", "golden", "adapters");

export function basePlan(model: LoadedModel): Plan {
  return buildPlan({ peft: 1, model: null, adapters: [], train: [] }, model.tree).plan!;
}

/** PEFT-saved golden adapters, each under its own name (a plan holding all of them, in order). */
export function loadGolden(model: LoadedModel, cases: { name: string; dir: string }[]): { plan: Plan; adapters: LoadedAdapter[] } {
  const adapters = cases.map(({ name, dir }) => {
    const [a] = loadPeftAdapters(join(goldenAdapters, dir), model.tree);
    return { ...a!, name, adapter: { ...a!.adapter, name } };
  });
  const plan = { ...basePlan(model), adapters: adapters.map((a) => a.adapter) };
  return { plan, adapters };
}

/** Saved tensors by (key, adapter name); a graph without scopes asks with no adapter: the first one's. */
export function savedOf(adapters: LoadedAdapter[]): (key: string, adapter?: string) => Float32Array | undefined {
  return (key, adapter) => (adapter === undefined ? adapters[0] : adapters.find((a) => a.name === adapter))?.tensors.get(key);
}

export async function decodeSession(model: LoadedModel, plan: Plan, adapters: LoadedAdapter[], shape: { batch: number; chunk: number; capacity: number; mixed?: { generic?: boolean }; merge?: { adapter: Plan["adapters"][number]; scale: number }[] }): Promise<DecodeSession> {
  await testDevice();
  const runtime = await acquireRuntime();
  const { graph, wgsl } = lowerDecode({ tree: model.tree, plan, device: runtime.profile, ...shape });
  const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), saved: savedOf(adapters), seed: 0 });
  return new DecodeSession(runner);
}

/**
 * Logits [batch, T, vocab] of a full forward of the rows (right-padded to
 * the longest with token 1: causal attention keeps padding out of earlier rows).
 */
export async function fullForward(model: LoadedModel, plan: Plan, adapters: LoadedAdapter[], rows: number[][], options: { mixed?: { generic?: boolean }; adapterIndex?: number[] } = {}): Promise<{ logits: Float32Array; T: number }> {
  await testDevice();
  const runtime = await acquireRuntime();
  const T = Math.max(...rows.map((r) => r.length));
  const { graph, wgsl } = lowerCausalLM({ tree: model.tree, plan, batch: rows.length, seqLen: T, device: runtime.profile, ...(options.mixed ? { mixed: options.mixed } : {}) });
  const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), saved: savedOf(adapters), seed: 0 });
  try {
    const ids = new Int32Array(rows.length * T).fill(1);
    rows.forEach((r, b) => ids.set(r, b * T));
    runner.write(graph.io.ids!, ids);
    runner.write(graph.io.labels!, new Int32Array(rows.length * T).fill(-100));
    if (options.adapterIndex) runner.write(graph.io.adapterIndex!, Int32Array.from(options.adapterIndex));
    runner.setScalar("training", 0);
    await runner.run(["eval"]);
    const logits = new Float32Array(rows.length * T * model.tree.config.vocabSize);
    await runner.read(graph.io.logits!, logits);
    return { logits, T };
  } finally {
    runner.destroy();
  }
}

export { relativeMax } from "../helpers/compare.js";

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

export const loadFixture = (dir: string) => loadModel(dir);
