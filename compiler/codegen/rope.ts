// Rotary position embedding (Llama's rotate-half), forward and backward. The
// position offset is a run-time parameter so decoding with a KV cache can
// rotate new tokens at their true positions with the same kernel.
import { ceilDiv, renderKernel, type BindingDecl } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

export interface RopeShape {
  /** Sequences in the batch. */
  batch: number;
  /** Tokens per sequence. */
  T: number;
  heads: number;
  headDim: number;
  theta: number;
  /** Rotate x in place instead of writing y. */
  inPlace?: boolean;
  /**
   * Each row's position comes from the i32 tensor `positions` [batch·T]
   * instead of posOffset + t (generation: sequences of a batch stand at
   * different positions, and padding rows carry −1, rotated as position 0).
   */
  positions?: boolean;
}

const WG = 64;

/**
 * Tensors: x [batch, T, heads, headDim] (+ positions) → y (same shape), or x
 * rotated in place. `inverse` gives the backward: dx from dy, bound as x and y.
 * Params (without `positions`): posOffset, the position of the first token (0 when training).
 */
export function rope(shape: RopeShape, _device: DeviceProfile, inverse = false): KernelInstance {
  const { batch, T, heads: H, headDim: D, theta } = shape;
  if (D % 2 !== 0) throw new Error(`rope: head_dim ${D} is odd`);
  const half = D / 2;
  const rows = batch * T;
  const invFreq = Array.from({ length: half }, (_, i) => f32Literal(theta ** ((-2 * i) / D)));
  const total = rows * H * half;
  const groups = ceilDiv(total, WG);
  const gx = Math.min(groups, 65535);
  const bindings: BindingDecl[] = shape.inPlace
    ? [{ name: "x", access: "read_write", type: "f32" }]
    : [
        { name: "x", access: "read", type: "f32" },
        { name: "y", access: "read_write", type: "f32" },
      ];
  const positions = shape.positions ?? false;
  if (positions) bindings.push({ name: "positions", access: "read", type: "i32" });
  else bindings.push({ name: "params", access: "uniform" });
  const spec = { rows, T, H, D, theta, inPlace: shape.inPlace ?? false, inverse, ...(positions ? { positions } : {}) };
  const kernel = renderKernel({
    family: "rope",
    template: "rope.wgsl.hbs",
    variant: inverse ? "backward" : "forward",
    reason: "one invocation per rotated pair",
    spec,
    view: { ...spec, positions, half, invFreq: invFreq.join(", "), WG, gxThreads: gx * WG, src: "x", dst: shape.inPlace ? "x" : "y" },
    workgroupSize: [WG, 1, 1],
    bindings,
    ...(positions ? {} : { params: [{ name: "posOffset", type: "u32" as const }] }),
  });
  return { kernel, dispatch: [gx, ceilDiv(groups, gx), 1], ...(positions ? {} : { params: { posOffset: 0 } }) };
}

/** The f32 nearest to x, as a WGSL literal that parses back to exactly that f32. */
function f32Literal(x: number): string {
  const f = Math.fround(x);
  const s = f.toPrecision(9);
  return /[.e]/.test(s) ? s : `${s}.0`;
}
