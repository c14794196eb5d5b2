// Singular value decomposition of a small square matrix by one-sided Jacobi
// rotations, in float64: accurate to rounding, and fast enough for the
// adapter-rank cores it is used on (a few hundred rows at most).
// Row-major storage throughout.

export interface Svd {
  /** n × n, columns are the left singular vectors. */
  U: Float64Array;
  /** n singular values, descending. */
  S: Float64Array;
  /** n × n, columns are the right singular vectors (M = U·diag(S)·Vᵀ). */
  V: Float64Array;
}

export function squareSvd(M: Float64Array, n: number): Svd {
  // Work on the columns of A = M, rotating pairs until they are orthogonal: A·V = U·S.
  const A = Float64Array.from(M);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < n; i++) {
          const ap = A[i * n + p]!;
          const aq = A[i * n + q]!;
          alpha += ap * ap;
          beta += aq * aq;
          gamma += ap * aq;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < n; i++) {
          const ap = A[i * n + p]!;
          const aq = A[i * n + q]!;
          A[i * n + p] = c * ap - s * aq;
          A[i * n + q] = s * ap + c * aq;
          const vp = V[i * n + p]!;
          const vq = V[i * n + q]!;
          V[i * n + p] = c * vp - s * vq;
          V[i * n + q] = s * vp + c * vq;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += A[i * n + j]! ** 2;
    return Math.sqrt(s);
  });
  const order = norms.map((_, j) => j).sort((a, b) => norms[b]! - norms[a]!);
  const U = new Float64Array(n * n);
  const S = new Float64Array(n);
  const Vs = new Float64Array(n * n);
  order.forEach((j, k) => {
    S[k] = norms[j]!;
    for (let i = 0; i < n; i++) {
      U[i * n + k] = norms[j]! > 0 ? A[i * n + j]! / norms[j]! : 0;
      Vs[i * n + k] = V[i * n + j]!;
    }
  });
  return { U, S, V: Vs };
}
