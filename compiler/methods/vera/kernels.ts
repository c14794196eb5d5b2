// VeRA's own kernel; everything else it runs is shared (GEMM, and
// codegen/scale for the projections' slices scaled by λ and λ_b ⊙ (h·Bᵀ)).
//   veraColumnDot: Σ over tokens of a product of two [tokens, n] matrices,
//                  added into a gradient (dλ_b, dλ_d)
import { ceilDiv, renderKernel } from "../../codegen/render.js";
import type { DeviceProfile, KernelPlan } from "../../codegen/types.js";

// Templates live beside this file; the renderer resolves them from compiler/codegen/templates/.
const TEMPLATES = "../../methods/vera/templates/";
const WG = 64;


/**
 * Tensors: a, b [rows, cols] → grad [cols] += Σ_rows a ⊙ b. Scratch: partial.
 * Long columns are cut into runs summed in parallel, then added in a fixed
 * order (deterministic); a short one is one dispatch.
 */
export function veraColumnDot(rows: number, cols: number, _device: DeviceProfile): KernelPlan {
  // Enough invocations to keep the worker threads busy, runs of at least 32 rows.
  const parts = Math.max(1, Math.min(ceilDiv(rows, 32), ceilDiv(1024, cols)));
  const chunk = ceilDiv(rows, parts);
  const used = ceilDiv(rows, chunk);
  const single = used === 1;
  const stage = (final: boolean) => renderKernel({
    family: "vera",
    template: `${TEMPLATES}vera_column_dot.wgsl.hbs`,
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
