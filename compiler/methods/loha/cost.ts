// Which way a LoHa layer runs, decided by counting FLOPs (deterministic in the
// shapes, so the same spec and model always give the same graph).
//
// PEFT materialises ΔW = s·(A1·B1)⊙(A2·B2) on every call and applies it as a
// second linear. Two ways here, both with one pass of x through the big GEMM:
//
//   materialised: P1 = A1·B1, P2 = A2·B2, Weff = W + s·P1⊙P2, y = x·Weffᵀ.
//     The backward needs dΔW = dYᵀ·X, a tokens·in·out GEMM as large as the
//     forward's, then four rank-r GEMMs for the factors.
//   low-rank: ΔW = Akr·Bkr with the Khatri-Rao factors (kernels.ts) of inner
//     width r², so y = x·Wᵀ + s·(x·Bkrᵀ)·Akrᵀ through the fused LoRA linear
//     with rank r², and its backward never forms an (out, in) matrix.
//
// Inference favours materialising once tokens·r² outgrows r·min(in, out);
// training mostly favours the low-rank path, since dΔW costs as much as the
// forward itself unless r² is large next to in·out/(in + out).
export type LohaPath = "materialised" | "low-rank";

export interface LohaCost {
  path: LohaPath;
  /** FLOPs per call (forward, plus backward when training) of each path. */
  materialised: number;
  lowRank: number;
}

export function lohaCost(tokens: number, inFeatures: number, outFeatures: number, r: number, training: boolean): LohaCost {
  const [T, I, O, R] = [tokens, inFeatures, outFeatures, r * r];
  const OI = O * I;
  // Forward. Both pay the main GEMM 2·T·I·O.
  let materialised = 2 * 2 * OI * r + 3 * OI + 2 * T * OI;
  let lowRank = 2 * R * (O + I) + 2 * T * I * R + 2 * T * OI + 2 * T * O * R;
  if (training) {
    // dΔW, recomputing P1 and P2, Weff for dX, dX, the Hadamard backward, four factor GEMMs.
    materialised += 2 * T * OI + 2 * 2 * OI * r + 3 * OI + 2 * T * OI + 4 * OI + 4 * 2 * OI * r;
    // du, dAkr, dBkr, dX (W and the rank-r² term), the Khatri-Rao backward.
    lowRank += 2 * T * O * R + 2 * T * O * R + 2 * T * I * R + 2 * T * OI + 2 * T * I * R + 4 * R * (O + I);
  }
  // Ties go to the low-rank path: it keeps less memory.
  return { path: materialised < lowRank ? "materialised" : "low-rank", materialised, lowRank };
}

/** For op labels: "low-rank (1.2 MFLOP vs 3.4 MFLOP materialised)". */
export function describeCost(c: LohaCost): string {
  const mflop = (x: number) => `${(x / 1e6).toPrecision(3)} MFLOP`;
  return c.path === "materialised"
    ? `materialised ΔW (${mflop(c.materialised)} vs ${mflop(c.lowRank)} low-rank)`
    : `low-rank, ΔW not materialised (${mflop(c.lowRank)} vs ${mflop(c.materialised)} materialised)`;
}
