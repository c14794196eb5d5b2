// lavapipe's (or any adapter's) arithmetic ceiling on the same run: independent
// vec4 FMA chains held in registers, no memory traffic in the loop. The host
// this runs on changes speed from minute to minute (a shared VM), so GEMM
// figures are also shown as a fraction of this.
import type { KernelInstance } from "../compiler/codegen/types.js";

const CHAINS = 8;
const ITERS = 4096;
export const FMA_INVOCATIONS = 64 * 1024;

export function fmaPeakKernel(): { instance: KernelInstance; flops: number } {
  const lines = (f: (i: number) => string, sep: string) => Array.from({ length: CHAINS }, (_, i) => f(i)).join(sep);
  const wgsl = `// bench-only: ${CHAINS} independent vec4 FMA chains per invocation
@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let x = vec4f(f32(g.x) * 1e-7);
  ${lines((i) => `var a${i} = x + vec4f(${i}.0);`, "\n  ")}
  for (var k = 0u; k < ${ITERS}u; k++) {
    ${lines((i) => `a${i} = fma(a${i}, vec4f(0.9999), vec4f(1e-7));`, "\n    ")}
  }
  out[g.x] = ${lines((i) => `a${i}`, " + ")};
}
`;
  const instance: KernelInstance = {
    kernel: {
      key: "bench.fma_peak",
      family: "bench",
      template: "(bench/fma_peak.ts)",
      variant: `chains${CHAINS}`,
      reason: "benchmark ceiling",
      wgsl,
      entryPoint: "main",
      workgroupSize: [64, 1, 1],
      bindings: [{ name: "out", access: "read_write" }],
    },
    dispatch: [FMA_INVOCATIONS / 64, 1, 1],
  };
  return { instance, flops: FMA_INVOCATIONS * ITERS * CHAINS * 4 * 2 };
}
