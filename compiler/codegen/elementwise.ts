// Elementwise kernels: add, scale, accumulate, GELU (tanh form) and the
// SiLU-gated product of Llama's MLP, each forward op beside its backward.
// Work is in vec4 when the length allows, one element per invocation
// otherwise; the dispatch is two-dimensional past 65535 workgroups.
import { ceilDiv, renderKernel, wgslF32, type BindingDecl } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

export type ElementwiseOp =
  | { op: "add"; alpha?: number; beta?: number } // out = alpha·a + beta·b
  | { op: "scale"; alpha: number } // out = alpha·a
  | { op: "accumulate"; alpha?: number } // out += alpha·a
  | { op: "gelu" } // out = gelu(a)
  | { op: "gelu_backward" } // out = dout·gelu'(a), tensors a, dout
  | { op: "swiglu" } // out = silu(gate)·up
  | { op: "swiglu_backward" } // dgate, dup from dout, gate, up
  | { op: "swiglu_backward_inplace" } // the same, written over gate and up
  | { op: "gelu_backward_inplace" }; // a = dout·gelu'(a)

interface OpDef {
  inputs: string[];
  outputs: string[];
  /** Outputs that are read as well as written. */
  inout?: string[];
  body: (o: ElementwiseOp) => string[];
  helpers: string[];
  math: string;
}

const f = (x: number | undefined, d: number) => wgslF32(x ?? d);

const OPS: Record<ElementwiseOp["op"], OpDef> = {
  add: {
    inputs: ["a", "b"],
    outputs: ["out"],
    math: "out = alpha·a + beta·b",
    helpers: [],
    body: (o) => {
      const { alpha, beta } = o as { alpha?: number; beta?: number };
      return [`out[i] = ${f(alpha, 1)} * a[i] + ${f(beta, 1)} * b[i];`];
    },
  },
  scale: {
    inputs: ["a"],
    outputs: ["out"],
    math: "out = alpha·a",
    helpers: [],
    body: (o) => [`out[i] = ${f((o as { alpha: number }).alpha, 1)} * a[i];`],
  },
  accumulate: {
    inputs: ["a"],
    outputs: ["out"],
    inout: ["out"],
    math: "out += alpha·a",
    helpers: [],
    body: (o) => [`out[i] += ${f((o as { alpha?: number }).alpha, 1)} * a[i];`],
  },
  gelu: {
    inputs: ["a"],
    outputs: ["out"],
    math: "out = 0.5·a·(1 + tanh(√(2/π)·(a + 0.044715·a³)))",
    helpers: ["gelu"],
    body: () => [`out[i] = gelu(a[i]);`],
  },
  gelu_backward: {
    inputs: ["a", "dout"],
    outputs: ["out"],
    math: "out = dout·gelu'(a)",
    helpers: ["gelu"],
    body: () => [`out[i] = dout[i] * geluGrad(a[i]);`],
  },
  swiglu: {
    inputs: ["gate", "up"],
    outputs: ["out"],
    math: "out = silu(gate)·up, silu(g) = g·σ(g)",
    helpers: ["silu"],
    body: () => [`out[i] = silu(gate[i]) * up[i];`],
  },
  swiglu_backward: {
    inputs: ["dout", "gate", "up"],
    outputs: ["dgate", "dup"],
    math: "dgate = dout·up·silu'(gate), dup = dout·silu(gate)",
    helpers: ["silu"],
    body: () => [
      `let g = gate[i];`,
      `let s = sigmoid(g);`,
      `dgate[i] = dout[i] * up[i] * s * (1.0 + g * (1.0 - s));`,
      `dup[i] = dout[i] * g * s;`,
    ],
  },
  swiglu_backward_inplace: {
    inputs: ["dout"],
    outputs: ["gate", "up"],
    math: "gate, up ← dout·up·silu'(gate), dout·silu(gate)",
    helpers: ["silu"],
    body: () => [
      `let g = gate[i];`,
      `let u = up[i];`,
      `let s = sigmoid(g);`,
      `gate[i] = dout[i] * u * s * (1.0 + g * (1.0 - s));`,
      `up[i] = dout[i] * g * s;`,
    ],
  },
  gelu_backward_inplace: {
    inputs: ["dout"],
    outputs: ["a"],
    math: "a ← dout·gelu'(a)",
    helpers: ["gelu"],
    body: () => [`a[i] = dout[i] * geluGrad(a[i]);`],
  },
};

const WG = 64;

export function elementwise(op: ElementwiseOp, length: number, _device: DeviceProfile): KernelInstance {
  const def = OPS[op.op];
  const vec = length % 4 === 0;
  const n = vec ? length / 4 : length;
  const T = vec ? "vec4f" : "f32";
  const groups = ceilDiv(n, WG);
  const gx = Math.min(groups, 65535);
  const gy = ceilDiv(groups, gx);
  const bindings: BindingDecl[] = [
    ...def.inputs.map((name) => ({ name, access: "read" as const, type: T })),
    ...def.outputs.map((name) => ({ name, access: "read_write" as const, type: T })),
  ];
  const spec = { ...op, length };
  const kernel = renderKernel({
    family: "elementwise",
    template: "elementwise.wgsl.hbs",
    variant: `${op.op}_${vec ? "vec4" : "scalar"}`,
    reason: vec ? "length is a multiple of 4: one vec4 per invocation" : "length is not a multiple of 4: one element per invocation",
    spec,
    view: {
      math: def.math,
      T,
      WG,
      n,
      gx,
      gelu: def.helpers.includes("gelu"),
      silu: def.helpers.includes("silu"),
      body: def.body(op),
    },
    workgroupSize: [WG, 1, 1],
    bindings,
  });
  return { kernel, dispatch: [gx, gy, 1] };
}
