// Builds and runs a graph for a fixture model and adapter spec, for tests.
import { lowerCausalLM, type OptimizerSettings } from "../../compiler/graph/causal-lm.js";
import { loadModel, type LoadedModel } from "../../compiler/models/load.js";
import { buildPlan } from "../../compiler/resolve/plan.js";
import type { Plan } from "../../compiler/resolve/plan-types.js";
import { analyzeSpec } from "../../compiler/spec/analyze.js";
import { readFloat32, readStored } from "../../runtime/files/checkpoint.js";
import { GraphRunner } from "../../runtime/executor/graph-runner.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import { testDevice } from "./gpu.js";
import { trainedViews } from "./gradcheck.js";

export interface GraphFixture {
  model: LoadedModel;
  plan: Plan;
  runner: GraphRunner;
}

export async function graphFor(modelDir: string, adapters: string, shape: { batch: number; seqLen: number }, options: {
  optimizer?: OptimizerSettings;
  saved?: Map<string, Float32Array>;
  seed?: number;
  recompute?: boolean;
  packedWeights?: boolean;
} = {}): Promise<GraphFixture> {
  await testDevice();
  const runtime = await acquireRuntime();
  const spec = analyzeSpec({ path: "test.peft", text: `peft 1\n${adapters}\n` });
  if (!spec.ir) throw new Error(spec.diagnostics.map((d) => d.message).join("\n"));
  const model = loadModel(modelDir);
  const planned = buildPlan(spec.ir, model.tree);
  if (!planned.plan) throw new Error(planned.diagnostics.map((d) => d.message).join("\n"));
  const { graph, wgsl } = lowerCausalLM({ tree: model.tree, plan: planned.plan, ...shape, device: runtime.profile, ...(options.optimizer ? { optimizer: options.optimizer } : {}), recompute: options.recompute ?? false, packedWeights: options.packedWeights ?? false });
  const runner = await GraphRunner.create(runtime, graph, wgsl, {
    weight: (name) => readFloat32(model.checkpoint, name),
    stored: (name) => readStored(model.checkpoint, name),
    saved: (key) => options.saved?.get(key),
    seed: options.seed ?? 1,
  });
  return { model, plan: planned.plan, runner };
}

/** Token ids and next-token targets of a batch, as the graph's inputs. */
export function inputsOf(ids: number[][]): { ids: Int32Array; targets: Int32Array } {
  const flat = ids.flat();
  const targets = ids.flatMap((row) => row.map((_, t) => (t + 1 < row.length ? row[t + 1]! : -100)));
  return { ids: Int32Array.from(flat), targets: Int32Array.from(targets) };
}

export function randomIds(batch: number, seqLen: number, vocab: number, seed: number): number[][] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  return Array.from({ length: batch }, () => Array.from({ length: seqLen }, () => 1 + Math.floor(next() * (vocab - 1))));
}

/**
 * One forward + loss + backward on `ids` (mean loss over predicted tokens);
 * the trained tensors' values (float64, to perturb) and gradients by PEFT key.
 * Destroys the runner.
 */
export async function runGradients(runner: GraphRunner, ids: number[][]): Promise<{ params: Map<string, Float64Array>; grads: Map<string, Float32Array> }> {
  const { graph } = runner;
  const inputs = inputsOf(ids);
  runner.write("ids", inputs.ids);
  runner.write("labels", inputs.targets);
  runner.setScalar("gradScale", 1 / [...inputs.targets].filter((t) => t >= 0).length);
  await runner.run(["forward", "loss", "backward"], graph.zeroBeforeStep);
  const size = graph.buffers.find((b) => b.name === "params")!.size;
  const flatParams = new Float32Array(size);
  const flatGrads = new Float32Array(size);
  await runner.read("params", flatParams);
  await runner.read("grads", flatGrads);
  runner.destroy();
  return {
    params: new Map([...trainedViews(graph, flatParams, "parameter")].map(([k, v]) => [k, Float64Array.from(v)])),
    grads: trainedViews(graph, flatGrads, "gradient"),
  };
}

/** The model's tensors as float64, read once each: the reference's base weights. */
export function baseWeights(model: LoadedModel): (name: string) => Float64Array {
  const cache = new Map<string, Float64Array>();
  return (name) => {
    if (!cache.has(name)) cache.set(name, Float64Array.from(readFloat32(model.checkpoint, name)));
    return cache.get(name)!;
  };
}
