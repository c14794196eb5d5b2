// Float64 references for the optimizer step and gradient-norm clipping, as
// torch.optim.AdamW and torch.nn.utils.clip_grad_norm_.

export interface AdamwHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  step: number;
  gradScale: number;
  maxNorm: number;
}

export function sumSquares(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! ** 2;
  return s;
}

/** Updates p, m, v in place for the elements of each segment. */
export function adamwStep(
  p: Float64Array,
  grad: Float64Array,
  m: Float64Array,
  v: Float64Array,
  segments: { offset: number; length: number; weightDecay: number }[],
  h: AdamwHyper,
): void {
  let scale = h.gradScale;
  if (h.maxNorm > 0) {
    const norm = Math.sqrt(sumSquares(grad)) * h.gradScale;
    scale *= Math.min(1, h.maxNorm / (norm + 1e-6));
  }
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  for (const s of segments) {
    for (let i = s.offset; i < s.offset + s.length; i++) {
      const g = grad[i]! * scale;
      p[i] = p[i]! * (1 - h.lr * s.weightDecay);
      m[i] = h.beta1 * m[i]! + (1 - h.beta1) * g;
      v[i] = h.beta2 * v[i]! + (1 - h.beta2) * g * g;
      p[i] = p[i]! - (h.lr / bc1) * m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(bc2) + h.eps);
    }
  }
}
