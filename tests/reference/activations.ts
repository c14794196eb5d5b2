// Elementwise activations and their derivatives, float64.

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU, tanh form (GPT-2's "gelu_new"). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)));
}

export function geluGrad(x: number): number {
  const u = SQRT_2_OVER_PI * (x + 0.044715 * x ** 3);
  const t = Math.tanh(u);
  const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function silu(x: number): number {
  return x * sigmoid(x);
}

export function siluGrad(x: number): number {
  const s = sigmoid(x);
  return s * (1 + x * (1 - s));
}

export function relu(x: number): number {
  return Math.max(0, x);
}
