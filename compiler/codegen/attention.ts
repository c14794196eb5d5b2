// Causal softmax attention with grouped-query heads (num_key_value_heads <
// num_heads), forward and backward, flash-attention style: scores are
// recomputed rather than stored, the forward keeps only log-sum-exp per row.
import { ceilDiv, renderKernel, wgslF32, type BindingDecl } from "./render.js";
import type { DeviceProfile, KernelInstance, KernelPlan } from "./types.js";

export interface AttentionShape {
  batch: number;
  /** Queries per sequence. */
  Tq: number;
  /** Keys per sequence; Tq when training. Queries are the last Tq positions. */
  Tk?: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** 1/sqrt(headDim) unless the model says otherwise. */
  scale?: number;
  /** Forward only: the key count is read from params.Tk (≤ Tk, the buffers' capacity), for a growing KV cache. */
  dynamicTk?: boolean;
}

const WG = 64;

function common(shape: AttentionShape) {
  const { batch, Tq, heads: H, kvHeads: Hkv, headDim: D } = shape;
  const kvCap = shape.Tk ?? Tq;
  if (H % Hkv !== 0) throw new Error(`attention: ${H} heads are not a multiple of ${Hkv} kv heads`);
  if (kvCap < Tq) throw new Error(`attention: ${kvCap} keys for ${Tq} queries`);
  const vec4 = D % 4 === 0;
  const scale = shape.scale ?? 1 / Math.sqrt(D);
  const spec = { batch, Tq, kvCap, H, Hkv, D, scale };
  const view = {
    ...spec,
    group: H / Hkv,
    vec4,
    T: vec4 ? "vec4f" : "f32",
    DV: vec4 ? D / 4 : D,
    scale: wgslF32(scale),
    WG,
  };
  return { spec, view, T: view.T };
}

/** Tensors: q_in, k_in, v_in → out [batch, Tq, heads, D], lse [batch, heads, Tq]. */
export function attentionForward(shape: AttentionShape, _device: DeviceProfile): KernelInstance {
  const { spec, view, T } = common(shape);
  const dynamic = shape.dynamicTk ?? false;
  const bindings: BindingDecl[] = [
    { name: "q_in", access: "read", type: T },
    { name: "k_in", access: "read", type: T },
    { name: "v_in", access: "read", type: T },
    { name: "out", access: "read_write", type: T },
    { name: "lse", access: "read_write", type: "f32" },
  ];
  if (dynamic) bindings.push({ name: "params", access: "uniform" });
  const kernel = renderKernel({
    family: "attention",
    template: "attention.wgsl.hbs",
    variant: "forward",
    reason: "one invocation per (query, head), online softmax over keys",
    spec: { ...spec, dynamicTk: dynamic },
    view: { ...view, TkExpr: dynamic ? "params.Tk" : "KV_CAP" },
    workgroupSize: [WG, 1, 1],
    bindings,
    ...(dynamic ? { params: [{ name: "Tk", type: "u32" as const }] } : {}),
  });
  const instance: KernelInstance = { kernel, dispatch: [ceilDiv(shape.Tq, WG), shape.heads, shape.batch] };
  if (dynamic) instance.params = { Tk: spec.kvCap };
  return instance;
}

/**
 * Tensors: q_in, k_in, v_in, out (the forward's O), lse, dout →
 * dq_out, dk_out, dv_out. Scratch: delta [batch, heads, Tq].
 */
export function attentionBackward(shape: AttentionShape, _device: DeviceProfile): KernelPlan {
  if (shape.dynamicTk) throw new Error("attention backward: a dynamic key count is for decoding only");
  const { spec, view, T } = common(shape);
  const dq = renderKernel({
    family: "attention",
    template: "attention_backward_dq.wgsl.hbs",
    variant: "backward_dq",
    reason: "one invocation per (query, head); also writes Δ = dO·O",
    spec,
    view,
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "q_in", access: "read", type: T },
      { name: "k_in", access: "read", type: T },
      { name: "v_in", access: "read", type: T },
      { name: "o_in", access: "read", type: T },
      { name: "lse", access: "read", type: "f32" },
      { name: "dout", access: "read", type: T },
      { name: "deltaOut", access: "read_write", type: "f32" },
      { name: "dq_out", access: "read_write", type: T },
    ],
  });
  const dkv = renderKernel({
    family: "attention",
    template: "attention_backward_dkv.wgsl.hbs",
    variant: "backward_dkv",
    reason: "one invocation per (key, kv head), summing its query heads",
    spec,
    view,
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "q_in", access: "read", type: T },
      { name: "k_in", access: "read", type: T },
      { name: "v_in", access: "read", type: T },
      { name: "lse", access: "read", type: "f32" },
      { name: "delta", access: "read", type: "f32" },
      { name: "dout", access: "read", type: T },
      { name: "dk_out", access: "read_write", type: T },
      { name: "dv_out", access: "read_write", type: T },
    ],
  });
  return {
    steps: [
      {
        instance: { kernel: dq, dispatch: [ceilDiv(shape.Tq, WG), shape.heads, shape.batch] },
        bind: { q_in: "q", k_in: "k", v_in: "v", o_in: "out", lse: "lse", dout: "dout", deltaOut: "delta", dq_out: "dq" },
      },
      {
        instance: { kernel: dkv, dispatch: [ceilDiv(spec.kvCap, WG), shape.kvHeads, shape.batch] },
        bind: { q_in: "q", k_in: "k", v_in: "v", lse: "lse", delta: "delta", dout: "dout", dk_out: "dk", dv_out: "dv" },
      },
    ],
    scratch: { delta: shape.batch * shape.heads * shape.Tq },
  };
}
