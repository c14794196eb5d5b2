import { test } from "uvu";
import { attentionBackward, attentionForward, type AttentionBlocking, type AttentionShape } from "../../compiler/codegen/attention.js";
import { attentionBackwardGemms, attentionForwardGemms } from "../../compiler/codegen/attention_gemm.js";
import { attentionBackward as refBackward, attentionForward as refForward } from "../reference/attention.js";
import { assertClose, f64, kernelRuntime, randomF32, runSteps, type TensorInit } from "../helpers/kernels.js";

// Dot products of D terms, softmax sums over up to Tk terms, all in f32.
const BOUND = 1e-5;

async function check(shape: AttentionShape, backward = true, TkRun?: number, force?: AttentionBlocking, path: "flash" | "gemms" = "flash"): Promise<void> {
  const { profile } = await kernelRuntime();
  const { batch: B, Tq, heads: H, kvHeads: Hkv, headDim: D } = shape;
  const cap = shape.Tk ?? Tq;
  const Tk = TkRun ?? cap;
  const scale = shape.scale ?? 1 / Math.sqrt(D);
  // Scaled up so that the softmax is far from uniform.
  const q = randomF32(B * Tq * H * D, -2, 2);
  const k = randomF32(B * cap * Hkv * D, -2, 2);
  const v = randomF32(B * cap * Hkv * D);
  const dout = randomF32(B * Tq * H * D);
  const what = `attention (${path}) ${JSON.stringify(shape)}${TkRun ? ` Tk=${TkRun}` : ""}${force ? ` ${JSON.stringify(force)}` : ""}`;
  // The reference sees only the first Tk keys of each sequence.
  const kk = new Float64Array(B * Tk * Hkv * D);
  const vv = new Float64Array(B * Tk * Hkv * D);
  for (let b = 0; b < B; b++) {
    kk.set(f64(k.subarray(b * cap * Hkv * D, (b * cap + Tk) * Hkv * D)), b * Tk * Hkv * D);
    vv.set(f64(v.subarray(b * cap * Hkv * D, (b * cap + Tk) * Hkv * D)), b * Tk * Hkv * D);
  }
  const dims = { B, Tq, Tk, H, Hkv, D, scale };
  const want = refForward(dims, f64(q), kk, vv);
  const forwardTensors: Record<string, TensorInit> = { q_in: q, k_in: k, v_in: v, out: { length: q.length }, lse: { length: B * H * Tq } };
  let out: Record<string, Float32Array>;
  if (path === "gemms") {
    const plan = attentionForwardGemms(shape, profile);
    for (const [name, length] of Object.entries(plan.scratch)) forwardTensors[name] = { length };
    out = await runSteps(forwardTensors, plan.steps);
  } else {
    const fwd = attentionForward(shape, profile, force);
    out = await runSteps(forwardTensors, [{ instance: fwd, ...(TkRun ? { params: { Tk: TkRun } } : {}) }]);
  }
  assertClose(out.out!, want.out, BOUND, `${what} out`);
  assertClose(out.lse!, want.lse, BOUND, `${what} lse`);
  if (!backward) return;

  const plan = path === "gemms" ? attentionBackwardGemms(shape, profile) : attentionBackward(shape, profile, force);
  const tensors: Record<string, TensorInit> = {
    q,
    k,
    v,
    out: out.out!,
    lse: out.lse!,
    dout,
    dq: { length: q.length },
    dk: { length: k.length },
    dv: { length: v.length },
  };
  for (const [name, length] of Object.entries(plan.scratch)) tensors[name] = { length };
  const grads = await runSteps(tensors, plan.steps);
  const g = refBackward(dims, f64(q), kk, vv, f64(dout));
  assertClose(grads.dq!, g.dq, BOUND, `${what} dq`);
  assertClose(grads.dk!, g.dk, BOUND, `${what} dk`);
  assertClose(grads.dv!, g.dv, BOUND, `${what} dv`);
}

test("causal attention with GQA, forward and backward", async () => {
  await check({ batch: 2, Tq: 13, heads: 4, kvHeads: 2, headDim: 8 });
  await check({ batch: 1, Tq: 70, heads: 6, kvHeads: 2, headDim: 16 });
  await check({ batch: 1, Tq: 1, heads: 1, kvHeads: 1, headDim: 4 });
});

test("attention: head_dim not a multiple of 4, and multi-head without grouping", async () => {
  await check({ batch: 1, Tq: 21, heads: 3, kvHeads: 3, headDim: 6 });
  await check({ batch: 2, Tq: 9, heads: 4, kvHeads: 1, headDim: 5, scale: 0.3 });
});

test("attention: queries after a prefix of keys, and a growing key count", async () => {
  await check({ batch: 2, Tq: 5, Tk: 12, heads: 2, kvHeads: 1, headDim: 16 });
  await check({ batch: 1, Tq: 3, Tk: 16, heads: 4, kvHeads: 2, headDim: 8, dynamicTk: true }, false, 11);
});

test("attention: query/key blockings that do not divide the sequence", async () => {
  await check({ batch: 1, Tq: 11, heads: 2, kvHeads: 1, headDim: 8 }, true, undefined, { BQ: 3, BK: 2, WG: 4, reason: "test" });
  await check({ batch: 2, Tq: 4, Tk: 9, heads: 2, kvHeads: 2, headDim: 4 }, true, undefined, { BQ: 8, BK: 5, WG: 2, reason: "test" });
  await check({ batch: 1, Tq: 5, heads: 1, kvHeads: 1, headDim: 12 }, true, undefined, { BQ: 1, BK: 1, WG: 64, reason: "test" });
});


test("attention as batched GEMMs around a causal softmax (CPU adapters' plan), with GQA, a key prefix and odd head dims", async () => {
  await check({ batch: 2, Tq: 13, heads: 4, kvHeads: 2, headDim: 8 }, true, undefined, undefined, "gemms");
  await check({ batch: 1, Tq: 70, heads: 6, kvHeads: 2, headDim: 16 }, true, undefined, undefined, "gemms");
  // Not Tq = 1: with one key dq is exactly 0, and f32 rounding of dP − Δ leaves ~1e-8 that a relative bound cannot judge.
  await check({ batch: 1, Tq: 2, heads: 1, kvHeads: 1, headDim: 4 }, true, undefined, undefined, "gemms");
  await check({ batch: 2, Tq: 9, heads: 4, kvHeads: 1, headDim: 5, scale: 0.3 }, true, undefined, undefined, "gemms");
  await check({ batch: 2, Tq: 5, Tk: 12, heads: 2, kvHeads: 1, headDim: 16 }, true, undefined, undefined, "gemms");
});

test.run();
