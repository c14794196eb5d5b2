// Thin QR of a tall matrix by Householder reflections, in float64.
// Row-major storage throughout.

export interface ThinQr {
  /** rows × cols, orthonormal columns. */
  Q: Float64Array;
  /** cols × cols, upper triangular. */
  R: Float64Array;
}

/** M (rows × cols, rows ≥ cols) = Q·R. */
export function thinQr(M: Float64Array, rows: number, cols: number): ThinQr {
  if (rows < cols) throw new Error(`thinQr: ${rows}×${cols} is wider than tall`);
  const A = Float64Array.from(M);
  const vs: Float64Array[] = [];
  for (let k = 0; k < cols; k++) {
    let norm = 0;
    for (let i = k; i < rows; i++) norm += A[i * cols + k]! ** 2;
    norm = Math.sqrt(norm);
    const v = new Float64Array(rows - k);
    if (norm === 0) {
      vs.push(v);
      continue;
    }
    const alpha = A[k * cols + k]! > 0 ? -norm : norm;
    for (let i = k; i < rows; i++) v[i - k] = A[i * cols + k]!;
    v[0]! -= alpha;
    let vv = 0;
    for (const x of v) vv += x * x;
    if (vv > 0) {
      for (let j = k; j < cols; j++) {
        let dot = 0;
        for (let i = k; i < rows; i++) dot += v[i - k]! * A[i * cols + j]!;
        const f = (2 * dot) / vv;
        for (let i = k; i < rows; i++) A[i * cols + j]! -= f * v[i - k]!;
      }
    }
    vs.push(vv > 0 ? v.map((x) => x / Math.sqrt(vv)) : v);
  }
  const R = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) for (let j = i; j < cols; j++) R[i * cols + j] = A[i * cols + j]!;
  // Q = H_0 ··· H_{cols-1} applied to the first cols columns of the identity.
  const Q = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) Q[j * cols + j] = 1;
  for (let k = cols - 1; k >= 0; k--) {
    const v = vs[k]!;
    for (let j = 0; j < cols; j++) {
      let dot = 0;
      for (let i = k; i < rows; i++) dot += v[i - k]! * Q[i * cols + j]!;
      if (dot === 0) continue;
      for (let i = k; i < rows; i++) Q[i * cols + j]! -= 2 * dot * v[i - k]!;
    }
  }
  return { Q, R };
}
