// The fused LoRA linear, y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ (+ bias), and its backward.
// W is frozen: the backward gives dX, dA and dB and never dW.
//
// Forward is two GEMMs. u = x·Aᵀ ([tokens, r]) is a narrow GEMM, and the
// main GEMM continues its accumulators over r more terms with u and B, so the
// low-rank path costs r/in extra FMAs and no extra pass over y. (On CPU
// adapters an NT product may be planned as a transpose then NN: planNT.) Computing u
// inside the main GEMM would repeat it once per column block of y (out/16
// times), far more than reading x once more in the narrow GEMM.
import { gemm, type GemmShape } from "./gemm.js";
import { gemmPlan, renamePlan } from "./gemm_plan.js";
import type { DeviceProfile, KernelPlan } from "./types.js";

/** A GEMM as one step, or as gemmPlan decides when the shape asks for planNT. */
function planner(shape: LoraLinearShape): (s: GemmShape, d: DeviceProfile) => KernelPlan {
  if (shape.planNT) return gemmPlan;
  return (s, d) => {
    const instance = gemm(s, d);
    const bind = Object.fromEntries(instance.kernel.bindings.filter((b) => b.access !== "uniform").map((b) => [b.name, b.name]));
    return { steps: [{ instance, bind }], scratch: {} };
  };
}

/** Plans run one after the other; scratch names must not collide. */
function sequence(...plans: KernelPlan[]): KernelPlan {
  return {
    steps: plans.flatMap((p) => p.steps),
    scratch: Object.assign({}, ...plans.map((p) => p.scratch)),
  };
}

export interface LoraLinearShape {
  tokens: number;
  inFeatures: number;
  outFeatures: number;
  r: number;
  /** alpha / r, or alpha / sqrt(r) with rsLoRA. */
  scale: number;
  bias?: boolean;
  /** "out_in": W as Hugging Face stores it, [out, in]; "in_out": pre-transposed Wᵀ. */
  wLayout?: "out_in" | "in_out";
  /**
   * Plan NT products as transpose + NN where gemm_plan.ts says so (CPU
   * adapters, many tokens). Off by default: then the steps are exactly
   * [x·Aᵀ, main] forward and [du, dB, dA, dx] backward, which callers index.
   */
  planNT?: boolean;
}

/**
 * Tensors: x [tokens, in], W, bias [out], lora_A [r, in], lora_B [out, r] → y [tokens, out].
 * Scratch u [tokens, r] is kept for the backward.
 */
export function loraLinearForward(shape: LoraLinearShape, device: DeviceProfile): KernelPlan {
  const { tokens, inFeatures, outFeatures, r, scale } = shape;
  const plan = planner(shape);
  const down = plan({ M: tokens, N: r, K: inFeatures, transB: true }, device);
  const main = plan(
    {
      M: tokens,
      N: outFeatures,
      K: inFeatures,
      transB: (shape.wLayout ?? "out_in") === "out_in",
      bias: shape.bias ?? false,
      lora: { R: r, transL: true, scale },
    },
    device,
  );
  const mainNames: Record<string, string> = { a: "x", b: "W", u: "u", l: "lora_B", c: "y" };
  if (shape.bias) mainNames.bias = "bias";
  return sequence(
    renamePlan(down, { a: "x", b: "lora_A", c: "u" }, "down_"),
    renamePlan(main, mainNames, "main_"),
    { steps: [], scratch: { u: tokens * r } },
  );
}

export interface LoraBackwardOptions {
  /** Add into grad_A / grad_B instead of overwriting them (gradient accumulation). */
  accumulateGrads?: boolean;
  /** Add into dx (x feeds several projections). */
  accumulateDx?: boolean;
}

/**
 * Tensors: dy [tokens, out], x, u (from the forward), W, lora_A, lora_B →
 * dx [tokens, in], grad_A [r, in], grad_B [out, r]. Scratch du [tokens, r].
 *   du = s·dy·B      dB = s·dyᵀ·u      dA = duᵀ·x      dx = dy·W + du·A
 */
export function loraLinearBackward(
  shape: LoraLinearShape,
  device: DeviceProfile,
  options: LoraBackwardOptions = {},
): KernelPlan {
  const { tokens, inFeatures, outFeatures, r, scale } = shape;
  const acc = options.accumulateGrads ?? false;
  const du = gemm({ M: tokens, N: r, K: outFeatures, alpha: scale }, device);
  const dB = gemm({ M: outFeatures, N: r, K: tokens, transA: true, alpha: scale, accumulate: acc }, device);
  const dA = gemm({ M: r, N: inFeatures, K: tokens, transA: true, accumulate: acc }, device);
  const dx = planner(shape)(
    {
      M: tokens,
      N: inFeatures,
      K: outFeatures,
      transB: (shape.wLayout ?? "out_in") === "in_out",
      lora: { R: r, transL: false, scale: 1 },
      accumulate: options.accumulateDx ?? false,
    },
    device,
  );
  return sequence(
    {
      steps: [
        { instance: du, bind: { a: "dy", b: "lora_B", c: "du" } },
        { instance: dB, bind: { a: "dy", b: "u", c: "grad_B" } },
        { instance: dA, bind: { a: "du", b: "x", c: "grad_A" } },
      ],
      scratch: { du: tokens * r },
    },
    renamePlan(dx, { a: "dy", b: "W", u: "du", l: "lora_A", c: "dx" }, "dx_"),
  );
}
