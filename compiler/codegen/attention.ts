// Causal softmax attention with grouped-query heads (num_key_value_heads <
// num_heads), forward and backward, flash-attention style: scores are
// recomputed rather than stored, the forward keeps only log-sum-exp per row.
import { attentionAsGemms, attentionBackwardGemms, attentionForwardGemms } from "./attention_gemm.js";
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

/** Rows (queries, or keys in the dK/dV pass) per invocation. */
export interface AttentionBlocking {
  BQ: number;
  BK: number;
  /** Invocations per workgroup. */
  WG: number;
  reason: string;
}

/**
 * On a CPU adapter every storage load is a per-lane gather, so an invocation
 * that serves several queries with each loaded key row wins; on a GPU, big
 * private arrays cost occupancy, so one row per invocation.
 */
export function chooseAttentionBlocking(shape: AttentionShape, device: DeviceProfile): AttentionBlocking {
  if (device.kind === "gpu") return { BQ: 1, BK: 1, WG: 64, reason: "GPU adapter: one query (key) per invocation" };
  const rows = Math.min(shape.Tq, shape.Tk ?? shape.Tq);
  const words = shape.headDim % 4 === 0 ? shape.headDim / 4 : shape.headDim;
  // Unrolled rows are values held per invocation: cap them near 128 vec4s.
  const cap = Math.max(1, Math.floor(128 / words));
  const block = Math.min(cap, rows >= 256 ? 8 : rows >= 16 ? 4 : 1);
  // Small workgroups: the causal mask makes later rows costlier, and many
  // small workgroups balance better over lavapipe's threads.
  return { BQ: block, BK: block, WG: 16, reason: `CPU adapter: ${block} queries (keys) per invocation share each row load` };
}

function common(shape: AttentionShape, blocking: AttentionBlocking) {
  const { batch, Tq, heads: H, kvHeads: Hkv, headDim: D } = shape;
  const kvCap = shape.Tk ?? Tq;
  if (H % Hkv !== 0) throw new Error(`attention: ${H} heads are not a multiple of ${Hkv} kv heads`);
  if (kvCap < Tq) throw new Error(`attention: ${kvCap} keys for ${Tq} queries`);
  const vec4 = D % 4 === 0;
  const scale = shape.scale ?? 1 / Math.sqrt(D);
  const { BQ, BK, WG } = blocking;
  const spec = { batch, Tq, kvCap, H, Hkv, D, scale, BQ, BK };
  const view = {
    ...spec,
    group: H / Hkv,
    vec4,
    T: vec4 ? "vec4f" : "f32",
    DV: vec4 ? D / 4 : D,
    scale: wgslF32(scale),
    WG,
  };
  return { spec: { ...spec, WG }, view, T: view.T, WG };
}

/**
 * The forward as the graph runs it: batched GEMMs on CPU adapters where the
 * scores fit (attention_gemm.ts), else the flash kernel. Tensors as attentionForward's.
 */
export function attentionForwardPlan(shape: AttentionShape, device: DeviceProfile): KernelPlan {
  if (attentionAsGemms(shape, device)) return attentionForwardGemms(shape, device);
  const instance = attentionForward(shape, device);
  return { steps: [{ instance, bind: { q_in: "q_in", k_in: "k_in", v_in: "v_in", out: "out", lse: "lse" } }], scratch: {}, reason: instance.kernel.reason };
}

/** The backward as the graph runs it (see attentionForwardPlan); without kv, only dq is computed. Tensors as attentionBackward's. */
export function attentionBackwardPlan(shape: AttentionShape, device: DeviceProfile, kv: boolean): KernelPlan {
  if (attentionAsGemms(shape, device)) return attentionBackwardGemms(shape, device, kv);
  const plan = attentionBackward(shape, device);
  // dq's kernel also computes Δ, which dk/dv's needs: it always runs.
  if (!kv) plan.steps = plan.steps.slice(0, 1);
  return plan;
}

/** Tensors: q_in, k_in, v_in → out [batch, Tq, heads, D], lse [batch, heads, Tq]. */
export function attentionForward(shape: AttentionShape, device: DeviceProfile, force?: AttentionBlocking): KernelInstance {
  const blocking = force ?? chooseAttentionBlocking(shape, device);
  const { spec, view, T, WG } = common(shape, blocking);
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
    variant: `forward_q${blocking.BQ}`,
    reason: blocking.reason,
    spec: { ...spec, dynamicTk: dynamic },
    view: { ...view, ...forwardLines(blocking.BQ, view.DV), TkExpr: dynamic ? "params.Tk" : "KV_CAP" },
    workgroupSize: [WG, 1, 1],
    bindings,
    ...(dynamic ? { params: [{ name: "Tk", type: "u32" as const }] } : {}),
  });
  const instance: KernelInstance = { kernel, dispatch: [ceilDiv(shape.Tq, WG * blocking.BQ), shape.heads, shape.batch] };
  if (dynamic) instance.params = { Tk: spec.kvCap };
  return instance;
}

/**
 * Tensors: q_in, k_in, v_in, out (the forward's O), lse, dout →
 * dq_out, dk_out, dv_out. Scratch: delta [batch, heads, Tq].
 */
export function attentionBackward(shape: AttentionShape, device: DeviceProfile, force?: AttentionBlocking): KernelPlan {
  if (shape.dynamicTk) throw new Error("attention backward: a dynamic key count is for decoding only");
  const blocking = force ?? chooseAttentionBlocking(shape, device);
  const { spec, view, T, WG } = common(shape, blocking);
  const dq = renderKernel({
    family: "attention",
    template: "attention_backward_dq.wgsl.hbs",
    variant: `backward_dq_q${blocking.BQ}`,
    reason: `${blocking.reason}; also writes Δ = dO·O`,
    spec,
    view: { ...view, ...dqLines(blocking.BQ, view.DV) },
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
    variant: `backward_dkv_k${blocking.BK}`,
    reason: `${blocking.reason}; sums the kv head's query heads`,
    spec,
    view: { ...view, ...dkvLines(blocking.BK, view.DV) },
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
        instance: { kernel: dq, dispatch: [ceilDiv(shape.Tq, WG * blocking.BQ), shape.heads, shape.batch] },
        bind: { q_in: "q", k_in: "k", v_in: "v", o_in: "out", lse: "lse", dout: "dout", deltaOut: "delta", dq_out: "dq" },
      },
      {
        instance: { kernel: dkv, dispatch: [ceilDiv(spec.kvCap, WG * blocking.BK), shape.kvHeads, shape.batch] },
        bind: { q_in: "q", k_in: "k", v_in: "v", lse: "lse", delta: "delta", dout: "dout", dk_out: "dk", dv_out: "dv" },
      },
    ],
    scratch: { delta: shape.batch * shape.heads * shape.Tq },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** One line per vector slot d of a head row. */
const perDim = (DV: number, line: (d: number) => string) => range(DV).map(line);

/** The key and value rows at kBase, shared by every query of the block. */
const keyValueLoads = (DV: number) => [...perDim(DV, (d) => `let k${d} = k_in[kBase + ${d}u];`), ...perDim(DV, (d) => `let v${d} = v_in[kBase + ${d}u];`)];

/** Σ_d dotT(a_d, b_d) as lines of `acc += ...`, four terms a line. */
function dotLines(acc: string, dv: number, a: (d: number) => string, b: (d: number) => string): string[] {
  const lines = [`var ${acc} = 0.0;`];
  for (let d0 = 0; d0 < dv; d0 += 4) {
    const terms = range(Math.min(4, dv - d0)).map((x) => `dotT(${a(d0 + x)}, ${b(d0 + x)})`);
    lines.push(`${acc} += ${terms.join(" + ")};`);
  }
  return lines;
}

function forwardLines(BQ: number, DV: number) {
  const setup: string[] = [];
  for (const i of range(BQ)) {
    setup.push(`let qb${i} = qRow(b, min(t0 + ${i}u, TQ - 1u), h);`);
    setup.push(...perDim(DV, (d) => `let q${i}_${d} = q_in[qb${i} + ${d}u] * SCALE;`));
    setup.push(...perDim(DV, (d) => `var o${i}_${d} = T(0.0);`));
    // A finite start keeps exp(m − mNew) at 0 rather than NaN on the first key.
    setup.push(`var m${i} = -3.0e38;`, `var l${i} = 0.0;`);
  }
  const loop = keyValueLoads(DV);
  for (const i of range(BQ)) {
    loop.push(`if (j + TQ <= t0 + ${i}u + tk) {`);
    loop.push(...dotLines("s", DV, (d) => `q${i}_${d}`, (d) => `k${d}`).map((l) => `  ${l}`));
    loop.push(`  let mNew = max(m${i}, s);`, `  let correction = exp(m${i} - mNew);`, `  let p = exp(s - mNew);`);
    loop.push(`  l${i} = l${i} * correction + p;`, `  m${i} = mNew;`);
    loop.push(...perDim(DV, (d) => `  o${i}_${d} = o${i}_${d} * correction + p * v${d};`));
    loop.push(`}`);
  }
  const finish: string[] = [];
  for (const i of range(BQ)) {
    finish.push(`if (t0 + ${i}u < TQ) {`, `  let inv = 1.0 / l${i};`);
    finish.push(...perDim(DV, (d) => `  out[qb${i} + ${d}u] = o${i}_${d} * inv;`));
    finish.push(`  lse[statIndex(b, h, t0 + ${i}u)] = m${i} + log(l${i});`, `}`);
  }
  return { setup, loop, finish };
}

function dqLines(BQ: number, DV: number) {
  const setup: string[] = [];
  for (const i of range(BQ)) {
    setup.push(`let qb${i} = qRow(b, min(t0 + ${i}u, TQ - 1u), h);`);
    setup.push(...perDim(DV, (d) => `let q${i}_${d} = q_in[qb${i} + ${d}u] * SCALE;`));
    setup.push(...perDim(DV, (d) => `let g${i}_${d} = dout[qb${i} + ${d}u];`));
    setup.push(...perDim(DV, (d) => `var dq${i}_${d} = T(0.0);`));
    setup.push(...dotLines(`delta${i}`, DV, (d) => `g${i}_${d}`, (d) => `o_in[qb${i} + ${d}u]`));
    setup.push(`let logSum${i} = lse[statIndex(b, h, min(t0 + ${i}u, TQ - 1u))];`);
  }
  const loop = keyValueLoads(DV);
  for (const i of range(BQ)) {
    loop.push(`if (j + TQ <= t0 + ${i}u + KV_CAP) {`);
    loop.push(...dotLines("s", DV, (d) => `q${i}_${d}`, (d) => `k${d}`).map((l) => `  ${l}`));
    loop.push(...dotLines("dp", DV, (d) => `g${i}_${d}`, (d) => `v${d}`).map((l) => `  ${l}`));
    loop.push(`  let ds = exp(s - logSum${i}) * (dp - delta${i});`);
    loop.push(...perDim(DV, (d) => `  dq${i}_${d} += ds * k${d};`));
    loop.push(`}`);
  }
  const finish: string[] = [];
  for (const i of range(BQ)) {
    finish.push(`if (t0 + ${i}u < TQ) {`);
    finish.push(...perDim(DV, (d) => `  dq_out[qb${i} + ${d}u] = dq${i}_${d} * SCALE;`));
    finish.push(`  deltaOut[statIndex(b, h, t0 + ${i}u)] = delta${i};`, `}`);
  }
  return { setup, loop, finish };
}

function dkvLines(BK: number, DV: number) {
  const setup: string[] = [];
  for (const i of range(BK)) {
    setup.push(`let kb${i} = kvRow(b, min(j0 + ${i}u, KV_CAP - 1u), kvh);`);
    setup.push(...perDim(DV, (d) => `let k${i}_${d} = k_in[kb${i} + ${d}u] * SCALE;`));
    setup.push(...perDim(DV, (d) => `let v${i}_${d} = v_in[kb${i} + ${d}u];`));
    setup.push(...perDim(DV, (d) => `var dk${i}_${d} = T(0.0);`));
    setup.push(...perDim(DV, (d) => `var dv${i}_${d} = T(0.0);`));
  }
  const loop: string[] = [];
  loop.push(...perDim(DV, (d) => `let q${d} = q_in[qBase + ${d}u];`));
  loop.push(...perDim(DV, (d) => `let g${d} = dout[qBase + ${d}u];`));
  for (const i of range(BK)) {
    loop.push(`if (j0 + ${i}u + TQ <= t + KV_CAP) {`);
    loop.push(...dotLines("s", DV, (d) => `q${d}`, (d) => `k${i}_${d}`).map((l) => `  ${l}`));
    loop.push(...dotLines("dp", DV, (d) => `g${d}`, (d) => `v${i}_${d}`).map((l) => `  ${l}`));
    loop.push(`  let p = exp(s - logSum);`, `  let ds = p * (dp - dlt);`);
    loop.push(...perDim(DV, (d) => `  dv${i}_${d} += p * g${d};`));
    loop.push(...perDim(DV, (d) => `  dk${i}_${d} += ds * q${d};`));
    loop.push(`}`);
  }
  const finish: string[] = [];
  for (const i of range(BK)) {
    finish.push(`if (j0 + ${i}u < KV_CAP) {`, `  let kb = kvRow(b, j0 + ${i}u, kvh);`);
    finish.push(...perDim(DV, (d) => `  dk_out[kb + ${d}u] = dk${i}_${d} * SCALE;`));
    finish.push(...perDim(DV, (d) => `  dv_out[kb + ${d}u] = dv${i}_${d};`));
    finish.push(`}`);
  }
  return { setup, loop, finish };
}
