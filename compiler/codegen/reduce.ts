// Reductions in deterministic stages (partial sums, then their sum in a fixed
// order): the sum of squares of a flat buffer (all gradients, for clipping by
// global norm), and a column sum of products (the gradient of a scaling vector).
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

/**
 * Tensors: a, b [rows, cols] → grad [cols] += Σ_rows a ⊙ b. Scratch: partial.
 * Long columns are cut into runs summed in parallel, then added in a fixed
 * order (deterministic); a short one is one dispatch.
 */
export function columnDot(rows: number, cols: number, _device: DeviceProfile): KernelPlan {
  // Enough invocations to keep the worker threads busy, runs of at least 32 rows.
  const parts = Math.max(1, Math.min(ceilDiv(rows, 32), ceilDiv(1024, cols)));
  const chunk = ceilDiv(rows, parts);
  const used = ceilDiv(rows, chunk);
  const single = used === 1;
  const stage = (final: boolean) => renderKernel({
    family: "column_dot",
    template: "column_dot.wgsl.hbs",
    variant: final ? "column_dot_final" : single ? "column_dot" : "column_dot_partial",
    reason: single ? "one invocation per column" : `${used} runs of ${chunk} rows per column, then their sum`,
    spec: { rows, cols, chunk, parts: used, final, single },
    view: { rows, cols, chunk, parts: used, final, single, WG },
    workgroupSize: [WG, 1, 1],
    bindings: final
      ? [{ name: "partial", access: "read", type: "f32" }, { name: "grad", access: "read_write", type: "f32" }]
      : [{ name: "a", access: "read", type: "f32" }, { name: "b", access: "read", type: "f32" }, { name: single ? "grad" : "partial", access: "read_write", type: "f32" }],
  });
  const groups = ceilDiv(cols, WG);
  if (single) return { steps: [{ instance: { kernel: stage(false), dispatch: [groups, 1, 1] }, bind: { a: "a", b: "b", grad: "grad" } }], scratch: {} };
  return {
    steps: [
      { instance: { kernel: stage(false), dispatch: [groups, used, 1] }, bind: { a: "a", b: "b", partial: "partial" } },
      { instance: { kernel: stage(true), dispatch: [groups, 1, 1] }, bind: { partial: "partial", grad: "grad" } },
    ],
    scratch: { partial: used * cols },
  };
}
