// Runs a merge graph: the adapted base weights are loaded, the adapters folded
// in on the GPU, and the merged tensors read back, each checked for NaN and
// Inf before anything is written (PEFT's safe_merge, always on).
import type { MergedTensor } from "../../compiler/graph/merge.js";
import type { Graph } from "../../compiler/graph/types.js";
import { GraphRunner, type TensorSource } from "../executor/graph-runner.js";
import type { GpuRuntime } from "../gpu/index.js";

export class UnsafeMerge extends Error {}

export async function mergeWeights(runtime: GpuRuntime, graph: Graph, wgsl: Map<string, string>, merged: MergedTensor[], source: TensorSource): Promise<Map<string, Float32Array>> {
  const runner = await GraphRunner.create(runtime, graph, wgsl, source);
  try {
    await runner.run(["merge"]);
    const out = new Map<string, Float32Array>();
    for (const m of merged) {
      const values = new Float32Array(m.shape.reduce((a, b) => a * b, 1));
      await runner.read(m.buffer, values);
      const bad = values.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        throw new UnsafeMerge(`merging gives ${values[bad]} in ${m.tensor} (changed by ${m.changedBy.map((c) => `adapter ${c.replace(" ", ", module ")}`).join("; ")}): nothing was written`);
      }
      out.set(m.tensor, values);
    }
    return out;
  } finally {
    runner.destroy();
  }
}
