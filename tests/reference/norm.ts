// Float64 references for RMSNorm (Llama) and LayerNorm (GPT-2) over rows of D.

export function rmsnormForward(x: Float64Array, w: Float64Array, rows: number, D: number, eps: number) {
  const y = new Float64Array(rows * D);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < D; i++) ss += x[r * D + i]! ** 2;
    rstd[r] = 1 / Math.sqrt(ss / D + eps);
    for (let i = 0; i < D; i++) y[r * D + i] = x[r * D + i]! * rstd[r]! * w[i]!;
  }
  return { y, rstd };
}

export function rmsnormBackward(dy: Float64Array, x: Float64Array, w: Float64Array, rows: number, D: number, eps: number) {
  const { rstd } = rmsnormForward(x, w, rows, D, eps);
  const dx = new Float64Array(rows * D);
  const dw = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const s = rstd[r]!;
    let dot = 0;
    for (let i = 0; i < D; i++) dot += dy[r * D + i]! * w[i]! * x[r * D + i]! * s;
    dot /= D;
    for (let i = 0; i < D; i++) {
      const xhat = x[r * D + i]! * s;
      dx[r * D + i] = s * (dy[r * D + i]! * w[i]! - xhat * dot);
      dw[i]! += dy[r * D + i]! * xhat;
    }
  }
  return { dx, dw };
}

export function layernormForward(x: Float64Array, w: Float64Array, b: Float64Array, rows: number, D: number, eps: number) {
  const y = new Float64Array(rows * D);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let i = 0; i < D; i++) sum += x[r * D + i]!;
    const mu = sum / D;
    let sq = 0;
    for (let i = 0; i < D; i++) sq += (x[r * D + i]! - mu) ** 2;
    mean[r] = mu;
    rstd[r] = 1 / Math.sqrt(sq / D + eps);
    for (let i = 0; i < D; i++) y[r * D + i] = (x[r * D + i]! - mu) * rstd[r]! * w[i]! + b[i]!;
  }
  return { y, mean, rstd };
}

export function layernormBackward(
  dy: Float64Array,
  x: Float64Array,
  w: Float64Array,
  b: Float64Array,
  rows: number,
  D: number,
  eps: number,
) {
  const { mean, rstd } = layernormForward(x, w, b, rows, D, eps);
  const dx = new Float64Array(rows * D);
  const dw = new Float64Array(D);
  const db = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const s = rstd[r]!;
    const xhat = (i: number) => (x[r * D + i]! - mean[r]!) * s;
    let gMean = 0;
    let gxMean = 0;
    for (let i = 0; i < D; i++) {
      const g = dy[r * D + i]! * w[i]!;
      gMean += g;
      gxMean += g * xhat(i);
    }
    gMean /= D;
    gxMean /= D;
    for (let i = 0; i < D; i++) {
      dx[r * D + i] = s * (dy[r * D + i]! * w[i]! - gMean - xhat(i) * gxMean);
      dw[i]! += dy[r * D + i]! * xhat(i);
      db[i]! += dy[r * D + i]!;
    }
  }
  return { dx, dw, db };
}
