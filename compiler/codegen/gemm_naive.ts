import { ceilDiv, renderKernel } from "./render.js";
import type { KernelInstance } from "./types.js";

/** A·B with one output per invocation, for benchmarks only. Tensors: a, b → c. */
export function naiveGemm(M: number, N: number, K: number): KernelInstance {
  const spec = { M, N, K };
  const kernel = renderKernel({
    family: "gemm",
    template: "gemm_naive.wgsl.hbs",
    variant: "naive",
    reason: "baseline for benchmarks",
    spec,
    view: spec,
    workgroupSize: [8, 8, 1],
    bindings: [
      { name: "a", access: "read", type: "f32" },
      { name: "b", access: "read", type: "f32" },
      { name: "c", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(N, 8), ceilDiv(M, 8), 1] };
}
