// A GEMM as a plan: on CPU adapters an NT product with enough rows runs as
// "transpose B, then NN", because the NN kernel is about twice as fast there
// (bench/NOTES.md) and transposing B costs one pass over it, amortised over
// the rows of A. Elsewhere, or for few rows (decoding), the direct kernel.
import { gemm, type GemmShape } from "./gemm.js";
import { transpose } from "./transpose.js";
import type { DeviceProfile, KernelInstance, KernelPlan } from "./types.js";

/** Rows of A from which transposing B pays for itself (measured break-even ≈ 65 at 2048²). */
export const TRANSPOSE_MIN_ROWS = 128;

/** Every binding of the instance bound to the tensor of its own name. */
function identity(instance: KernelInstance): Record<string, string> {
  return Object.fromEntries(instance.kernel.bindings.filter((b) => b.access !== "uniform").map((b) => [b.name, b.name]));
}

/**
 * Tensors as gemm()'s bindings (a, b, bias, u, l, c). Scratch, when B is
 * transposed first: bT (B as [K, N] per batch).
 */
export function gemmPlan(shape: GemmShape, device: DeviceProfile): KernelPlan {
  const { M, N, K } = shape;
  const batches = shape.batch?.count ?? 1;
  const strideB = shape.batch?.strideB ?? N * K;
  const contiguous = strideB === 0 || strideB === N * K;
  if (!(device.kind === "cpu" && shape.transB && M >= TRANSPOSE_MIN_ROWS && contiguous && !shape.bF16)) {
    const instance = gemm(shape, device);
    return { steps: [{ instance, bind: identity(instance) }], scratch: {}, reason: instance.kernel.reason };
  }
  const copies = strideB === 0 ? 1 : batches;
  const flip = transpose(N, K, copies, device);
  const nnShape: GemmShape = { ...shape, transB: false };
  if (shape.batch) nnShape.batch = { ...shape.batch, strideB: strideB === 0 ? 0 : N * K };
  const nn = gemm(nnShape, device);
  return {
    steps: [
      { instance: flip, bind: { x: "b", out: "bT" } },
      { instance: nn, bind: { ...identity(nn), b: "bT" } },
    ],
    scratch: { bT: N * K * copies },
    reason: `CPU adapter: A·Bᵀ as transpose(B) then NN, about 2× the direct NT kernel at ${M} rows`,
  };
}

/** The plan with its tensors renamed (names not in `names` are kept, scratch gets `prefix`). */
export function renamePlan(plan: KernelPlan, names: Record<string, string>, prefix: string): KernelPlan {
  const rename = (t: string) => names[t] ?? (t in plan.scratch ? `${prefix}${t}` : t);
  return {
    steps: plan.steps.map((s) => ({ instance: s.instance, bind: Object.fromEntries(Object.entries(s.bind).map(([k, v]) => [k, rename(v)])) })),
    scratch: Object.fromEntries(Object.entries(plan.scratch).map(([k, v]) => [rename(k), v])),
    ...(plan.reason ? { reason: plan.reason } : {}),
  };
}
