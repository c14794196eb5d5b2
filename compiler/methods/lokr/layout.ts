// The shapes of one LoKr module, as PEFT's LoKrLayer.update_layer decides them,
// and how each tensor starts (reset_adapter_parameters and its two variants).
// tensors.ts (the plan) and the graph both read this, so they cannot disagree.
import type { Hyperparameters } from "../types.js";
import { factorization } from "./factorization.js";

export interface LokrLayout {
  r: number;
  /** in = inM·inN: x is viewed as (inM, inN) per token. */
  inM: number;
  inN: number;
  /** out = outL·outK: y is (outL, outK) per token. */
  outL: number;
  outK: number;
  /** w1 (outL, inM) is trained as is; otherwise as w1_a (outL, r) @ w1_b (r, inM). */
  fullW1: boolean;
  /** w2 (outK, inN) is trained as is; otherwise as w2_a (outK, r) @ w2_b (r, inN). */
  fullW2: boolean;
}

export function lokrLayout(inFeatures: number, outFeatures: number, hp: Hyperparameters): LokrLayout {
  const r = hp.r as number;
  const factor = hp.decompose_factor as number;
  const [inM, inN] = factorization(inFeatures, factor);
  const [outL, outK] = factorization(outFeatures, factor);
  return {
    r,
    inM,
    inN,
    outL,
    outK,
    // PEFT: use_w1 = not (decompose_both and r < max(out_l, in_m) / 2); use_w2 = not (r < max(out_k, in_n) / 2).
    fullW1: !(hp.decompose_both === true && r < Math.max(outL, inM) / 2),
    fullW2: !(r < Math.max(outK, inN) / 2),
  };
}

export type LokrTensorName = "lokr_w1" | "lokr_w1_a" | "lokr_w1_b" | "lokr_w2" | "lokr_w2_a" | "lokr_w2_b";

export interface LokrTensorSpec {
  name: LokrTensorName;
  shape: [number, number];
  /** kaiming_uniform_(a=√5) on a 2-D tensor is U(-1/√cols, 1/√cols). */
  init: "zeros" | "kaiming";
}

/**
 * PEFT's three inits. init_weights=True: w1 (or w1_a) = 0, the rest kaiming;
 * "lycoris": w2 (or w2_b) = 0, the rest kaiming; False: everything kaiming.
 * The first two start the update at zero.
 */
export function lokrTensorSpecs(l: LokrLayout, init: unknown): LokrTensorSpec[] {
  const zeroW1 = init === "default";
  const zeroW2 = init === "lycoris";
  const k = (zero: boolean) => (zero ? "zeros" : "kaiming");
  const specs: LokrTensorSpec[] = [];
  if (l.fullW1) specs.push({ name: "lokr_w1", shape: [l.outL, l.inM], init: k(zeroW1) });
  else specs.push({ name: "lokr_w1_a", shape: [l.outL, l.r], init: k(zeroW1) }, { name: "lokr_w1_b", shape: [l.r, l.inM], init: "kaiming" });
  if (l.fullW2) specs.push({ name: "lokr_w2", shape: [l.outK, l.inN], init: k(zeroW2) });
  else specs.push({ name: "lokr_w2_a", shape: [l.outK, l.r], init: "kaiming" }, { name: "lokr_w2_b", shape: [l.r, l.inN], init: k(zeroW2) });
  return specs;
}
