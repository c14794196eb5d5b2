// The generation kernels against float64 references, on fresh random inputs:
// attention over a KV cache at per-row positions, cache appends, RoPE at
// per-row positions, the row select of mixed-adapter batches, and the
// few-row GEMV that decoding's linear layers use. Outputs
// start as NaN, so an element a kernel fails to write fails the comparison.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { attentionCached, type CachedAttentionShape } from "../../compiler/codegen/attention_cached.js";
import { gemm } from "../../compiler/codegen/gemm.js";
import { kvAppend } from "../../compiler/codegen/kv_cache.js";
import { rope } from "../../compiler/codegen/rope.js";
import { selectRows } from "../../compiler/codegen/select_rows.js";
import { cachedAttention, kvAppend as kvAppendRef, selectRows as selectRowsRef } from "../reference/decode.js";
import { addBias, matmul } from "../reference/gemm.js";
import { rope as ropeRef } from "../reference/rope.js";
import { assertClose, f64, kernelRuntime, randomF32, randomInt, runSteps } from "../helpers/kernels.js";

// Dot products of D terms and softmax sums over up to `capacity` terms in f32.
const BOUND = 1e-5;

/** Random positions in [0, capacity) with some padding rows (−1). */
function positionsFor(rows: number, capacity: number, padding: number): Int32Array {
  const p = randomInt(rows, 0, capacity);
  for (let i = 0; i < padding && i < rows; i++) p[(i * 7) % rows] = -1;
  return p;
}

async function checkAttention(shape: CachedAttentionShape, padding: number): Promise<void> {
  const { profile } = await kernelRuntime();
  const { batch, T, heads: H, kvHeads: Hkv, headDim: D, capacity } = shape;
  const rows = batch * T;
  const q = randomF32(rows * H * D, -2, 2);
  const k = randomF32(batch * capacity * Hkv * D, -2, 2);
  const v = randomF32(batch * capacity * Hkv * D);
  const positions = positionsFor(rows, capacity, padding);
  const out = await runSteps(
    { q_in: q, k_cache: k, v_cache: v, positions, out: { length: rows * H * D } },
    [{ instance: attentionCached(shape, profile) }],
  );
  const want = cachedAttention({ batch, T, H, Hkv, D, capacity, scale: shape.scale ?? 1 / Math.sqrt(D) }, f64(q), f64(k), f64(v), positions);
  assertClose(out.out!, want, BOUND, `cached attention ${JSON.stringify(shape)}`);
}

test("attention over a KV cache at per-row positions (GQA, padding rows give zeros)", async () => {
  await checkAttention({ batch: 2, T: 1, heads: 4, kvHeads: 2, headDim: 16, capacity: 40 }, 0);
  await checkAttention({ batch: 3, T: 5, heads: 6, kvHeads: 2, headDim: 8, capacity: 24 }, 3);
  await checkAttention({ batch: 1, T: 33, heads: 4, kvHeads: 4, headDim: 6, capacity: 70, scale: 0.2 }, 2);
});

test("KV cache append: rows land at their positions; padding and out-of-range rows write nothing", async () => {
  const { profile } = await kernelRuntime();
  for (const shape of [{ batch: 2, T: 3, width: 24, capacity: 10 }, { batch: 3, T: 1, width: 70, capacity: 5 }]) {
    const rows = shape.batch * shape.T;
    const x = randomF32(rows * shape.width);
    const cache = randomF32(shape.batch * shape.capacity * shape.width);
    const positions = positionsFor(rows, shape.capacity, 1);
    positions[rows - 1] = shape.capacity; // past the end: ignored
    const out = await runSteps({ x, positions, cache }, [{ instance: kvAppend(shape, profile) }]);
    const want = kvAppendRef(f64(cache), f64(x), positions, shape.T, shape.width, shape.capacity);
    assertClose(out.cache!, want, 0, `kv append ${JSON.stringify(shape)}`);
  }
});

test("RoPE at per-row positions (padding rotated as position 0), forward and inverse", async () => {
  const { profile } = await kernelRuntime();
  const shape = { batch: 3, T: 4, heads: 2, headDim: 16, theta: 10000, positions: true };
  const rows = shape.batch * shape.T;
  const width = shape.heads * shape.headDim;
  const x = randomF32(rows * width);
  const positions = positionsFor(rows, 120, 2);
  for (const inverse of [false, true]) {
    const out = await runSteps({ x, positions, y: { length: x.length } }, [{ instance: rope(shape, profile, inverse) }]);
    const want = new Float64Array(x.length);
    for (let r = 0; r < rows; r++) {
      const row = ropeRef(f64(x.subarray(r * width, (r + 1) * width)), 1, 1, shape.heads, shape.headDim, shape.theta, Math.max(positions[r]!, 0), inverse);
      want.set(row, r * width);
    }
    assertClose(out.y!, want, 2e-5, `rope at positions${inverse ? " (inverse)" : ""}`);
  }
});

test("row select copies exactly the rows of its slot", async () => {
  const { profile } = await kernelRuntime();
  const rows = 12;
  const width = 37;
  const x = randomF32(rows * width);
  const base = randomF32(rows * width);
  // Three rows (a sequence's tokens) per index entry.
  const index = randomInt(rows / 3, -1, 3);
  index[0] = 1;
  index[1] = 0;
  const out = await runSteps({ x, index, out: base }, [{ instance: selectRows({ rows, width, slot: 1, rowsPerIndex: 3 }, profile) }]);
  const perRow = Array.from({ length: rows }, (_, r) => index[Math.floor(r / 3)]!);
  const want = selectRowsRef(f64(base), f64(x), perRow, 1, width);
  assertClose(out.out!, want, 0, "row select");
  assert.ok(out.out![2 * width] === x[2 * width] && out.out![3 * width] === base[3 * width], "row 2 (sequence 0, slot 1) copied, row 3 (sequence 1, slot 0) kept");
});

test("decoding's few-row A·Bᵀ (the GEMV gemm() picks on CPU adapters): alpha, bias, LoRA term, accumulate", async () => {
  const { profile } = await kernelRuntime();
  for (const [M, N, K, R, transL, accumulate] of [[1, 70, 64, 4, true, false], [3, 33, 20, 2, false, true], [4, 128, 8, 0, true, false]] as const) {
    const alpha = 0.75;
    const scale = 1.5;
    const a = randomF32(M * K);
    const b = randomF32(N * K);
    const bias = randomF32(N);
    const u = randomF32(M * Math.max(R, 1));
    const l = randomF32(N * Math.max(R, 1));
    const c = randomF32(M * N);
    const shape = { M, N, K, transB: true, alpha, bias: true, accumulate, ...(R > 0 ? { lora: { R, transL, scale } } : {}) };
    const instance = gemm(shape, profile);
    if (profile.kind === "cpu") assert.match(instance.kernel.variant, /gemv/);
    const out = await runSteps({ a, b, bias, u, l, c: accumulate ? c : { length: M * N } }, [{ instance }]);
    let want: Float64Array = matmul(f64(a), f64(b), M, N, K, false, true).map((x) => alpha * x);
    if (R > 0) {
      const low = matmul(f64(u), f64(l), M, N, R, false, transL);
      want = want.map((x, i) => x + scale * low[i]!);
    }
    want = addBias(want, f64(bias), N);
    if (accumulate) want = want.map((x, i) => x + c[i]!);
    // Sums of K + R products in f32, against their |terms|.
    const scaleOf = matmul(f64(a).map(Math.abs), f64(b).map(Math.abs), M, N, K, false, true).map((x) => alpha * x + 2 + (accumulate ? 1 : 0) + scale * R);
    assertClose(out.c!, want, 1e-6, `gemv ${JSON.stringify(shape)}`, scaleOf);
  }
});

test.run();
