// Float64 references for matrix products. Plain functions over Float64Array
// with explicit shapes; row-major everywhere.

/** op(A)·op(B): A is [M, K] (or [K, M] when transA), B is [K, N] (or [N, K] when transB). */
export function matmul(
  a: Float64Array,
  b: Float64Array,
  M: number,
  N: number,
  K: number,
  transA = false,
  transB = false,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      const av = transA ? a[k * M + m]! : a[m * K + k]!;
      if (transB) for (let n = 0; n < N; n++) c[m * N + n]! += av * b[n * K + k]!;
      else {
        const row = k * N;
        for (let n = 0; n < N; n++) c[m * N + n]! += av * b[row + n]!;
      }
    }
  }
  return c;
}

export function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c]!;
  return t;
}

/** x + bias broadcast over rows: x is [M, N], bias [N]. */
export function addBias(x: Float64Array, bias: Float64Array, N: number): Float64Array {
  return x.map((v, i) => v + bias[i % N]!);
}
