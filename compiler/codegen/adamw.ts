// AdamW over every trainable tensor in one dispatch. The tensors live in one
// flat buffer (param, grad, m and v share its layout); a small segment table
// gives each tensor's range and weight decay (0 for biases and norms, as the
// trainer decides). lr, step and the betas come from the params buffer, so a
// schedule changes them without recompiling.
import { ceilDiv, renderKernel, type BindingDecl } from "./render.js";
import type { DeviceProfile, KernelInstance, ParamField } from "./types.js";

export interface AdamwSegment {
  offset: number;
  length: number;
  weightDecay: number;
}

export interface AdamwShape {
  /** Elements in the flat buffers. */
  count: number;
  segmentCount: number;
  /** Clip by the global gradient norm read from gradSumSq[0] (see sumSquares). */
  clip?: boolean;
  /** Every segment's offset and length are multiples of 4 (the caller lays tensors out so): vec4 updates. */
  aligned4?: boolean;
}

const WG = 64;

export const ADAMW_PARAMS: ParamField[] = [
  { name: "lr", type: "f32" },
  { name: "beta1", type: "f32" },
  { name: "beta2", type: "f32" },
  { name: "eps", type: "f32" },
  { name: "step", type: "f32" },
  { name: "gradScale", type: "f32" },
  { name: "maxNorm", type: "f32" },
];

/** The segment table as the kernel reads it: (start, end, f32 bits of weight decay, 0) each. */
export function adamwSegmentTable(segments: AdamwSegment[]): Uint32Array {
  const table = new Uint32Array(segments.length * 4);
  const wd = new Float32Array(1);
  const sorted = [...segments].sort((a, b) => a.offset - b.offset);
  sorted.forEach((s, i) => {
    wd[0] = s.weightDecay;
    table.set([s.offset, s.offset + s.length, new Uint32Array(wd.buffer)[0]!, 0], i * 4);
  });
  return table;
}

/** Tensors: param, grad, m, v (flat, `count` elements), segments, (gradSumSq [1]). */
export function adamw(shape: AdamwShape, _device: DeviceProfile): KernelInstance {
  const clip = shape.clip ?? false;
  const vec4 = (shape.aligned4 ?? false) && shape.count % 4 === 0;
  const T = vec4 ? "vec4f" : "f32";
  const bindings: BindingDecl[] = [
    { name: "param", access: "read_write", type: T },
    { name: "grad", access: "read", type: T },
    { name: "m", access: "read_write", type: T },
    { name: "v", access: "read_write", type: T },
    { name: "segments", access: "read", type: "vec4u" },
  ];
  if (clip) bindings.push({ name: "gradSumSq", access: "read", type: "f32" });
  bindings.push({ name: "params", access: "uniform" });
  const width = vec4 ? 4 : 1;
  const invocations = shape.count / width;
  const groups = ceilDiv(invocations, WG);
  const gx = Math.min(groups, 65535);
  const spec = { count: shape.count, segments: shape.segmentCount, clip, vec4 };
  const kernel = renderKernel({
    family: "adamw",
    template: "adamw.wgsl.hbs",
    variant: `${clip ? "clipped" : "plain"}_${vec4 ? "vec4" : "scalar"}`,
    reason: vec4
      ? "segments aligned to 4: one vec4 per invocation, its tensor found by binary search"
      : "one element per invocation, its tensor found by binary search",
    spec,
    view: { ...spec, WG, gx, T, width, groups: invocations },
    workgroupSize: [WG, 1, 1],
    bindings,
    params: ADAMW_PARAMS,
  });
  return {
    kernel,
    dispatch: [gx, ceilDiv(groups, gx), 1],
    params: { beta1: 0.9, beta2: 0.999, eps: 1e-8, gradScale: 1, maxNorm: 0 },
  };
}
