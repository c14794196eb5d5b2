// QR, the Jacobi SVD and the truncated SVD of a low-rank product, against
// their defining properties on fresh random matrices.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { truncatedProductSvd } from "../../compiler/linalg/low-rank.js";
import { thinQr } from "../../compiler/linalg/qr.js";
import { squareSvd } from "../../compiler/linalg/svd.js";
import { randomFloat64 } from "../fixtures/random.js";

function matmul(A: Float64Array, B: Float64Array, n: number, k: number, m: number): Float64Array {
  const C = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) for (let j = 0; j < m; j++) C[i * m + j]! += A[i * k + t]! * B[t * m + j]!;
  return C;
}

const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test("thin QR: Q·R = M, QᵀQ = I, R upper triangular", () => {
  for (const [rows, cols] of [[7, 3], [12, 12], [40, 5], [5, 1]] as const) {
    const M = randomFloat64(rows * cols, rows + cols);
    const { Q, R } = thinQr(M, rows, cols);
    assert.ok(maxDiff(matmul(Q, R, rows, cols, cols), M) < 1e-12, `${rows}×${cols}: Q·R ≠ M`);
    const Qt = new Float64Array(cols * rows);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) Qt[j * rows + i] = Q[i * cols + j]!;
    const I = matmul(Qt, Q, cols, rows, cols);
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) assert.ok(Math.abs(I[i * cols + j]! - (i === j ? 1 : 0)) < 1e-12);
    for (let i = 0; i < cols; i++) for (let j = 0; j < i; j++) assert.is(R[i * cols + j], 0);
  }
});

test("Jacobi SVD: U·diag(S)·Vᵀ = M, orthonormal factors, S descending", () => {
  for (const n of [1, 2, 5, 17]) {
    const M = randomFloat64(n * n, 3 * n);
    const { U, S, V } = squareSvd(M, n);
    const US = U.map((u, i) => u * S[i % n]!);
    const Vt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Vt[j * n + i] = V[i * n + j]!;
    assert.ok(maxDiff(matmul(US, Vt, n, n, n), M) < 1e-12, `n=${n}`);
    for (let i = 1; i < n; i++) assert.ok(S[i - 1]! >= S[i]!);
  }
});

test("truncated SVD of B·A: exact at full rank, optimal residual (the dropped singular values) when truncated", () => {
  const out = 30;
  const R = 6;
  const inFeatures = 20;
  const B = randomFloat64(out * R, 1);
  const A = randomFloat64(R * inFeatures, 2);
  const product = matmul(B, A, out, R, inFeatures);
  const full = truncatedProductSvd(B, A, out, R, inFeatures, R);
  assert.ok(maxDiff(matmul(full.B, full.A, out, R, inFeatures), product) < 1e-12);
  const k = 3;
  const cut = truncatedProductSvd(B, A, out, R, inFeatures, k);
  const residual = matmul(cut.B, cut.A, out, k, inFeatures).map((v, i) => v - product[i]!);
  const frob = Math.sqrt(residual.reduce((s, v) => s + v * v, 0));
  const dropped = Math.sqrt([...full.S].slice(k).reduce((s, v) => s + v * v, 0));
  assert.ok(Math.abs(frob - dropped) < 1e-10 * dropped, `residual ${frob} vs Eckart–Young ${dropped}`);
});

test.run();
