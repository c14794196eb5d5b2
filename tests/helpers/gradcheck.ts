// Gradients on the GPU against central differences of a float64 loss: a few
// elements of each tensor, and the whole tensor along a random direction.
import * as assert from "uvu/assert";
import type { Graph } from "../../compiler/graph/types.js";

/** Each trained tensor's values (or gradients) read out of the flat buffer, by PEFT key. */
export function trainedViews(graph: Graph, flat: Float32Array, role: "parameter" | "gradient"): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const b of graph.buffers) {
    if (b.role === role && b.view) out.set(b.name.slice(2), flat.slice(b.view.offset, b.view.offset + b.size));
  }
  return out;
}

/** ±1 at random (a regular sign pattern can lie along a direction LayerNorm cancels exactly). */
export function randomSigns(n: number, seed: number): Float64Array {
  let s = (seed * 2654435761) >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 31 ? 1 : -1;
  });
}

export interface GradCheckOptions {
  eps?: number;
  /** Relative tolerance (default 1e-3). */
  tolerance?: number;
  /** Elements checked one by one per tensor (default 3). */
  elements?: number;
  /** Also check the whole tensor along a random direction (default true). */
  direction?: boolean;
}

/**
 * For each tensor in `params` (values the `loss` closure reads, perturbed in
 * place): elements to a relative `tolerance` of the tensor's gradient scale,
 * and the directional derivative to `tolerance` of itself.
 */
export function checkGradients(params: Map<string, Float64Array>, grads: Map<string, Float32Array>, loss: () => number, options: GradCheckOptions = {}): void {
  const eps = options.eps ?? 1e-4;
  const tolerance = options.tolerance ?? 1e-3;
  for (const [key, values] of params) {
    const grad = grads.get(key);
    assert.ok(grad, `${key}: no gradient`);
    const scale = Math.sqrt(grad.reduce((s, g) => s + g * g, 0) / grad.length);
    assert.ok(scale > 0, `${key}: the gradient is zero`);
    for (let n = 0; n < (options.elements ?? 3); n++) {
      const i = (n * 7919 + key.length * 31) % values.length;
      const keep = values[i]!;
      values[i] = keep + eps;
      const up = loss();
      values[i] = keep - eps;
      const down = loss();
      values[i] = keep;
      const fd = (up - down) / (2 * eps);
      assert.ok(Math.abs(grad[i]! - fd) <= tolerance * Math.max(Math.abs(fd), scale), `${key}[${i}]: gpu ${grad[i]} vs central difference ${fd}`);
    }
    if (options.direction === false) continue;
    const direction = randomSigns(values.length, key.length);
    const dot = grad.reduce((s, g, j) => s + g * direction[j]!, 0);
    const shifted = (sign: number) => {
      for (let j = 0; j < values.length; j++) values[j]! += sign * eps * direction[j]!;
      const l = loss();
      for (let j = 0; j < values.length; j++) values[j]! -= sign * eps * direction[j]!;
      return l;
    };
    const fd = (shifted(1) - shifted(-1)) / (2 * eps);
    assert.ok(Math.abs(dot - fd) <= tolerance * Math.abs(fd), `${key} along a direction: gpu ${dot} vs ${fd}`);
  }
}
