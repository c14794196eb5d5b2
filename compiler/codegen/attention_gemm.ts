// Causal attention as batched GEMMs around a row softmax, for CPU adapters.
//
// The flash kernels of attention.ts keep a head row in named values and are
// fast on lavapipe, but LLVM takes 15–100 s to compile each of them cold
// (bench/NOTES.md). Here the products are the GEMM pipelines a step compiles
// anyway (sizes are params), plus a permute and three small row kernels, so a
// cold first step compiles almost nothing new for attention. The score
// matrix is materialised one layer at a time (scratch), and the backward
// recomputes it from Q, K and the forward's log-sum-exp, so nothing larger
// than the flash version's output is kept between the passes.
//
// Heads are made head-major first: with h = kvh·G + g, the G query heads of kv
// head kvh are G·Tq consecutive rows of [batch, H, Tq, D], so every product is
// one batched GEMM over batch × kvHeads with linear strides (GQA for free).
import type { AttentionShape } from "./attention.js";
import { gemm } from "./gemm.js";
import { ceilDiv, renderKernel, type BindingDecl } from "./render.js";
import type { DeviceProfile, KernelInstance, KernelPlan, KernelStep } from "./types.js";

const WG = 32;

/** Scores this big or bigger (f32 elements, all heads of the batch) go to the flash kernels instead. */
export const MAX_SCORE_ELEMENTS = 16 * 1024 * 1024;

/** Whether attentionForward/Backward plan this shape as GEMMs on this device. */
export function attentionAsGemms(shape: AttentionShape, device: DeviceProfile): boolean {
  const Tk = shape.Tk ?? shape.Tq;
  return device.kind === "cpu" && !shape.dynamicTk && shape.batch * shape.heads * shape.Tq * Tk < MAX_SCORE_ELEMENTS;
}

/** Tensors: src [B, X, Y, D] → out [B, Y, X, D]. */
export function swapAxes(B: number, X: number, Y: number, D: number): KernelInstance {
  const vec4 = D % 4 === 0;
  const DV = vec4 ? D / 4 : D;
  const T = vec4 ? "vec4f" : "f32";
  const kernel = renderKernel({
    family: "swap_axes",
    template: "swap_axes.wgsl.hbs",
    variant: vec4 ? "vec4" : "scalar",
    reason: "one invocation per element; consecutive lanes read consecutive input",
    spec: { vec4 },
    view: { T, WG: 64 },
    workgroupSize: [64, 1, 1],
    bindings: [
      { name: "src", access: "read", type: T },
      { name: "out", access: "read_write", type: T },
      { name: "params", access: "uniform" },
    ],
    params: [
      { name: "X", type: "u32" },
      { name: "Y", type: "u32" },
      { name: "DV", type: "u32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(Y * DV, 64), X, B], params: { X, Y, DV } };
}

type SoftmaxMode = "forward" | "recompute" | "backward";

/**
 * forward: s [rows, Tk] (scores → P), lse [rows]; recompute: s, lse (read);
 * backward: p, ds (dP → dS), dout and o [rows, D].
 */
function causalSoftmax(mode: SoftmaxMode, rows: number, Tq: number, Tk: number, scale: number, D: number): KernelInstance {
  const bindings: BindingDecl[] =
    mode === "backward"
      ? [
          { name: "p", access: "read", type: "f32" },
          { name: "ds", access: "read_write", type: "f32" },
          { name: "dout", access: "read", type: "f32" },
          { name: "o", access: "read", type: "f32" },
        ]
      : [
          { name: "s", access: "read_write", type: "f32" },
          { name: "lse", access: mode === "forward" ? "read_write" : "read", type: "f32" },
        ];
  bindings.push({ name: "params", access: "uniform" });
  const gx = Math.min(rows, 65535);
  const kernel = renderKernel({
    family: "attention_softmax",
    template: "attention_softmax.wgsl.hbs",
    variant: mode,
    reason: `one workgroup of ${WG} per score row, reduced through workgroup memory`,
    spec: { mode, WG },
    view: { mode, WG },
    workgroupSize: [WG, 1, 1],
    bindings,
    params: [
      { name: "rows", type: "u32" },
      { name: "gx", type: "u32" },
      { name: "Tq", type: "u32" },
      { name: "Tk", type: "u32" },
      { name: "scale", type: "f32" },
      { name: "D", type: "u32" },
    ],
  });
  return { kernel, dispatch: [gx, ceilDiv(rows, gx), 1], params: { rows, gx, Tq, Tk, scale, D } };
}

function sizes(shape: AttentionShape) {
  const { batch, Tq, heads: H, kvHeads: Hkv, headDim: D } = shape;
  if (H % Hkv !== 0) throw new Error(`attention: ${H} heads are not a multiple of ${Hkv} kv heads`);
  const Tk = shape.Tk ?? Tq;
  if (Tk < Tq) throw new Error(`attention: ${Tk} keys for ${Tq} queries`);
  const G = H / Hkv;
  return { batch, Tq, Tk, H, Hkv, D, G, Z: batch * Hkv, rows: batch * H * Tq, scale: shape.scale ?? 1 / Math.sqrt(D) };
}

const step = (instance: KernelInstance, bind: Record<string, string>): KernelStep => ({ instance, bind });

/** S = Q·Kᵀ per kv head: [G·Tq, D] × [Tk, D]ᵀ. */
function scores(s: ReturnType<typeof sizes>, device: DeviceProfile, q: string, k: string, out: string): KernelStep {
  const { G, Tq, Tk, D, Z } = s;
  return step(gemm({ M: G * Tq, N: Tk, K: D, transB: true, batch: { count: Z, strideA: G * Tq * D, strideB: Tk * D, strideC: G * Tq * Tk } }, device), { a: q, b: k, c: out });
}

/** Tensors: q_in [batch, Tq, H, D], k_in, v_in [batch, Tk, Hkv, D] → out [batch, Tq, H, D], lse [batch, H, Tq]. */
export function attentionForwardGemms(shape: AttentionShape, device: DeviceProfile): KernelPlan {
  const s = sizes(shape);
  const { batch, Tq, Tk, H, Hkv, D, G, Z, rows } = s;
  return {
    steps: [
      step(swapAxes(batch, Tq, H, D), { src: "q_in", out: "qh" }),
      step(swapAxes(batch, Tk, Hkv, D), { src: "k_in", out: "kh" }),
      step(swapAxes(batch, Tk, Hkv, D), { src: "v_in", out: "vh" }),
      scores(s, device, "qh", "kh", "scores"),
      step(causalSoftmax("forward", rows, Tq, Tk, s.scale, D), { s: "scores", lse: "lse" }),
      step(gemm({ M: G * Tq, N: D, K: Tk, batch: { count: Z, strideA: G * Tq * Tk, strideB: Tk * D, strideC: G * Tq * D } }, device), { a: "scores", b: "vh", c: "oh" }),
      step(swapAxes(batch, H, Tq, D), { src: "oh", out: "out" }),
    ],
    scratch: { qh: rows * D, kh: batch * Tk * Hkv * D, vh: batch * Tk * Hkv * D, scores: rows * Tk, oh: rows * D },
    reason: "CPU adapter: batched GEMMs around a causal row softmax (shares the step's GEMM pipelines; flash kernels compile for a minute cold)",
  };
}

/**
 * Tensors: q, k, v, out, lse, dout → dq, and (with kv) dk, dv. Scratch as
 * listed. dS = SCALE·P∘(dP − Δ); dQ = dS·K, dK = dSᵀ·Q, dV = Pᵀ·dO per kv head
 * (its G query heads' rows summed by the product's K dimension).
 */
export function attentionBackwardGemms(shape: AttentionShape, device: DeviceProfile, kv = true): KernelPlan {
  const s = sizes(shape);
  const { batch, Tq, Tk, H, Hkv, D, G, Z, rows } = s;
  const kvSize = batch * Tk * Hkv * D;
  const tn = (a: string, b: string, c: string) =>
    step(gemm({ M: Tk, N: D, K: G * Tq, transA: true, batch: { count: Z, strideA: G * Tq * Tk, strideB: G * Tq * D, strideC: Tk * D } }, device), { a, b, c });
  const steps: KernelStep[] = [
    step(swapAxes(batch, Tq, H, D), { src: "q", out: "qh" }),
    step(swapAxes(batch, Tk, Hkv, D), { src: "k", out: "kh" }),
    step(swapAxes(batch, Tk, Hkv, D), { src: "v", out: "vh" }),
    step(swapAxes(batch, Tq, H, D), { src: "out", out: "oh" }),
    step(swapAxes(batch, Tq, H, D), { src: "dout", out: "doh" }),
    scores(s, device, "qh", "kh", "p"),
    step(causalSoftmax("recompute", rows, Tq, Tk, s.scale, D), { s: "p", lse: "lse" }),
    // dP = dO·Vᵀ, the same product shape as the scores.
    scores(s, device, "doh", "vh", "ds"),
    step(causalSoftmax("backward", rows, Tq, Tk, s.scale, D), { p: "p", ds: "ds", dout: "doh", o: "oh" }),
    step(gemm({ M: G * Tq, N: D, K: Tk, batch: { count: Z, strideA: G * Tq * Tk, strideB: Tk * D, strideC: G * Tq * D } }, device), { a: "ds", b: "kh", c: "dqh" }),
    step(swapAxes(batch, H, Tq, D), { src: "dqh", out: "dq" }),
  ];
  const scratch: Record<string, number> = { qh: rows * D, kh: kvSize, vh: kvSize, oh: rows * D, doh: rows * D, p: rows * Tk, ds: rows * Tk, dqh: rows * D };
  if (kv) {
    steps.push(
      tn("ds", "qh", "dkh"),
      step(swapAxes(batch, Hkv, Tk, D), { src: "dkh", out: "dk" }),
      tn("p", "doh", "dvh"),
      step(swapAxes(batch, Hkv, Tk, D), { src: "dvh", out: "dv" }),
    );
    scratch.dkh = kvSize;
    scratch.dvh = kvSize;
  }
  return { steps, scratch, reason: "CPU adapter: batched GEMMs around the softmax's backward, scores recomputed from Q, K and LSE" };
}
