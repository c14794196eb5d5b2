// Sum of squares of a flat buffer (all gradients, for clipping by global
// norm), in two deterministic stages: partial sums per workgroup, then one
// workgroup adds them.
import { ceilDiv, renderKernel } from "./render.js";
import type { DeviceProfile, KernelPlan } from "./types.js";

const WG = 64;
const MAX_PARTIALS = 1024;

/** Tensors: x [count] → out [1] = Σ x². Scratch: partials. */
export function sumSquares(count: number, _device: DeviceProfile): KernelPlan {
  const chunk = Math.max(WG, ceilDiv(ceilDiv(count, MAX_PARTIALS), WG) * WG);
  const partials = ceilDiv(count, chunk);
  const stage1 = renderKernel({
    family: "sum_squares",
    template: "sum_squares.wgsl.hbs",
    variant: "partial",
    reason: `${partials} workgroups of ${chunk} elements`,
    spec: { count, chunk },
    view: { count, chunk, WG, final: false },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "x", access: "read", type: "f32" },
      { name: "out", access: "read_write", type: "f32" },
    ],
  });
  const stage2 = renderKernel({
    family: "sum_squares",
    template: "sum_squares.wgsl.hbs",
    variant: "final",
    reason: "one workgroup adds the partial sums",
    spec: { count: partials },
    view: { count: partials, WG, final: true },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "x", access: "read", type: "f32" },
      { name: "out", access: "read_write", type: "f32" },
    ],
  });
  return {
    steps: [
      { instance: { kernel: stage1, dispatch: [partials, 1, 1] }, bind: { x: "x", out: "partials" } },
      { instance: { kernel: stage2, dispatch: [1, 1, 1] }, bind: { x: "partials", out: "out" } },
    ],
    scratch: { partials },
  };
}
