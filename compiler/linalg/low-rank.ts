// The best rank-k approximation of a product B·A (B: out × R, A: R × in,
// R small), without forming the out × in matrix: QR both factors, take the
// SVD of the R × R core, and carry the bases back. Float64 throughout.
import { thinQr } from "./qr.js";
import { squareSvd } from "./svd.js";

export interface LowRank {
  /** out × k: U·diag(S), as PEFT's SVD combination stores lora_B. */
  B: Float64Array;
  /** k × in: Vᵀ, as PEFT stores lora_A. */
  A: Float64Array;
  /** All singular values of B·A (R of them), descending. */
  S: Float64Array;
}

export function truncatedProductSvd(B: Float64Array, A: Float64Array, out: number, R: number, inFeatures: number, k: number): LowRank {
  if (out < R || inFeatures < R) throw new Error(`low-rank SVD: inner size ${R} exceeds ${out}×${inFeatures}`);
  const qb = thinQr(B, out, R);
  const At = new Float64Array(inFeatures * R);
  for (let r = 0; r < R; r++) for (let i = 0; i < inFeatures; i++) At[i * R + r] = A[r * inFeatures + i]!;
  const qa = thinQr(At, inFeatures, R);
  // Core = R_B · R_Aᵀ, so B·A = Q_B · Core · Q_Aᵀ.
  const core = new Float64Array(R * R);
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < R; j++) {
      let s = 0;
      for (let t = 0; t < R; t++) s += qb.R[i * R + t]! * qa.R[j * R + t]!;
      core[i * R + j] = s;
    }
  }
  const svd = squareSvd(core, R);
  const kept = Math.min(k, R);
  const newB = new Float64Array(out * k);
  const newA = new Float64Array(k * inFeatures);
  for (let c = 0; c < kept; c++) {
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let t = 0; t < R; t++) s += qb.Q[o * R + t]! * svd.U[t * R + c]!;
      newB[o * k + c] = s * svd.S[c]!;
    }
    for (let i = 0; i < inFeatures; i++) {
      let s = 0;
      for (let t = 0; t < R; t++) s += qa.Q[i * R + t]! * svd.V[t * R + c]!;
      newA[c * inFeatures + i] = s;
    }
  }
  return { B: newB, A: newA, S: svd.S };
}
