// Float64 reference for the LoRA linear, y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ + bias, and
// its backward with W frozen. x [T, in], W [out, in], A [r, in], B [out, r].
import { matmul } from "./gemm.js";

export interface LoraDims {
  T: number;
  inF: number;
  outF: number;
  r: number;
  s: number;
}

export function loraForward(
  d: LoraDims,
  x: Float64Array,
  W: Float64Array,
  A: Float64Array,
  B: Float64Array,
  bias?: Float64Array,
): { y: Float64Array; u: Float64Array } {
  const u = matmul(x, A, d.T, d.r, d.inF, false, true);
  const base = matmul(x, W, d.T, d.outF, d.inF, false, true);
  const low = matmul(u, B, d.T, d.outF, d.r, false, true);
  const y = base.map((v, i) => v + d.s * low[i]! + (bias ? bias[i % d.outF]! : 0));
  return { y, u };
}

export function loraBackward(
  d: LoraDims,
  dy: Float64Array,
  x: Float64Array,
  W: Float64Array,
  A: Float64Array,
  B: Float64Array,
): { dx: Float64Array; dA: Float64Array; dB: Float64Array } {
  const u = matmul(x, A, d.T, d.r, d.inF, false, true);
  const du = matmul(dy, B, d.T, d.r, d.outF).map((v) => v * d.s);
  const dB = matmul(dy, u, d.outF, d.r, d.T, true, false).map((v) => v * d.s);
  const dA = matmul(du, x, d.r, d.inF, d.T, true, false);
  const dxBase = matmul(dy, W, d.T, d.inF, d.outF);
  const dxLow = matmul(du, A, d.T, d.inF, d.r);
  return { dx: dxBase.map((v, i) => v + dxLow[i]!), dA, dB };
}
