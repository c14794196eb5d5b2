// Float64 references for elementwise ops.
import { gelu, geluGrad, silu, siluGrad } from "./activations.js";

export const add = (a: Float64Array, b: Float64Array, alpha = 1, beta = 1) => a.map((v, i) => alpha * v + beta * b[i]!);
export const scale = (a: Float64Array, alpha: number) => a.map((v) => alpha * v);
export const geluForward = (a: Float64Array) => a.map(gelu);
export const geluBackward = (a: Float64Array, dout: Float64Array) => a.map((v, i) => dout[i]! * geluGrad(v));

/** Llama's MLP gate: silu(gate)·up. */
export const swiglu = (gate: Float64Array, up: Float64Array) => gate.map((g, i) => silu(g) * up[i]!);

export function swigluBackward(dout: Float64Array, gate: Float64Array, up: Float64Array) {
  return {
    dgate: gate.map((g, i) => dout[i]! * up[i]! * siluGrad(g)),
    dup: gate.map((g, i) => dout[i]! * silu(g)),
  };
}

/** out[i, j] (+)= src[i·ld + j]·s[i or j] over rows × cols (a left block of src). */
export function scaleAlong(src: Float64Array, s: Float64Array, rows: number, cols: number, ld: number, along: "rows" | "columns", into?: Float64Array): Float64Array {
  const out = into ? Float64Array.from(into) : new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j]! += src[i * ld + j]! * s[along === "rows" ? i : j]!;
  }
  return out;
}
