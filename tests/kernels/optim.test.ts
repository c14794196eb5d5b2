import { test } from "uvu";
import * as assert from "uvu/assert";
import { adamw, adamwSegmentTable, type AdamwSegment } from "../../compiler/codegen/adamw.js";
import { columnDot, sumSquares } from "../../compiler/codegen/reduce.js";
import { transpose } from "../../compiler/codegen/transpose.js";
import { transpose as refTranspose } from "../reference/gemm.js";
import { adamwStep, sumSquares as refSumSquares, type AdamwHyper } from "../reference/optim.js";
import { assertClose, f64, kernelRuntime, randomF32, runSteps } from "../helpers/kernels.js";

// A reduction of up to ~300k squares in f32, in a fixed tree order.
const SUM_BOUND = 1e-5;
// A handful of f32 operations per element, one square root and one pow.
const ADAMW_BOUND = 1e-5;

test("sum of squares at several lengths", async () => {
  const { profile } = await kernelRuntime();
  for (const n of [1, 63, 1000, 300_007]) {
    const x = randomF32(n);
    const plan = sumSquares(n, profile);
    const out = await runSteps({ x, out: { length: 1 }, partials: { length: plan.scratch.partials! } }, plan.steps);
    assertClose(out.out!, [refSumSquares(x)], SUM_BOUND, `sum of squares n=${n}`);
  }
});

test("column sums of products added into a gradient: one pass, and long columns in runs", async () => {
  const { profile } = await kernelRuntime();
  for (const [rows, cols] of [[1, 5], [7, 64], [300, 3], [1000, 130]] as const) {
    const a = randomF32(rows * cols);
    const b = randomF32(rows * cols);
    const grad = randomF32(cols);
    const plan = columnDot(rows, cols, profile);
    const out = await runSteps({ a, b, grad, ...(plan.scratch.partial ? { partial: { length: plan.scratch.partial } } : {}) }, plan.steps);
    const want = Float64Array.from(grad, (g, j) => {
      let s = g;
      for (let i = 0; i < rows; i++) s += a[i * cols + j]! * b[i * cols + j]!;
      return s;
    });
    assertClose(out.grad!, want, SUM_BOUND, `column dot ${rows}×${cols}${plan.steps.length > 1 ? " in runs" : ""}`);
  }
});

async function checkAdamw(segments: AdamwSegment[], count: number, hyper: AdamwHyper, clip: boolean, aligned4 = false): Promise<void> {
  const { profile } = await kernelRuntime();
  const param = randomF32(count);
  const grad = randomF32(count);
  const m = randomF32(count, -0.1, 0.1);
  const v = randomF32(count, 0, 0.01);
  const gradSumSq = new Float32Array([refSumSquares(grad)]);
  const instance = adamw({ count, segmentCount: segments.length, clip, aligned4 }, profile);
  const out = await runSteps(
    { param, grad, m, v, segments: adamwSegmentTable(segments), gradSumSq },
    [{ instance, params: { ...hyper } }],
  );
  const [p, mm, vv] = [f64(param), f64(m), f64(v)];
  adamwStep(p, f64(grad), mm, vv, segments, { ...hyper, maxNorm: clip ? hyper.maxNorm : 0 });
  const what = `adamw ${instance.kernel.variant} ${segments.length} tensors, step ${hyper.step}`;
  assertClose(out.param!, p, ADAMW_BOUND, `${what} param`);
  assertClose(out.m!, mm, ADAMW_BOUND, `${what} m`);
  assertClose(out.v!, vv, ADAMW_BOUND, `${what} v`);
  // Padding between tensors is not touched.
  for (let i = 0; i < count; i++) {
    if (!segments.some((s) => i >= s.offset && i < s.offset + s.length)) assert.is(out.param![i], param[i], `padding element ${i}`);
  }
}

test("AdamW over several tensors in one dispatch, with weight decay per tensor", async () => {
  const segments = [
    { offset: 0, length: 100, weightDecay: 0.01 },
    { offset: 100, length: 37, weightDecay: 0 },
    { offset: 140, length: 1, weightDecay: 0.1 },
    { offset: 144, length: 1000, weightDecay: 0.01 },
  ];
  const hyper = { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1, gradScale: 0.25, maxNorm: 0 };
  await checkAdamw(segments, 1150, hyper, false);
  await checkAdamw(segments, 1150, { ...hyper, step: 57, lr: 1e-2 }, false);
  await checkAdamw(segments, 1150, { ...hyper, step: 3, maxNorm: 1.0 }, true);
  await checkAdamw([{ offset: 0, length: 1, weightDecay: 0.5 }], 1, { ...hyper, step: 1000 }, false);
  const aligned = [
    { offset: 0, length: 100, weightDecay: 0.01 },
    { offset: 100, length: 36, weightDecay: 0 },
    { offset: 140, length: 4, weightDecay: 0.1 },
    { offset: 148, length: 1000, weightDecay: 0.01 },
  ];
  await checkAdamw(aligned, 1152, hyper, false, true);
  await checkAdamw(aligned, 1152, { ...hyper, step: 7, maxNorm: 2.0 }, true, true);
});

test("transpose, batched and awkward", async () => {
  const { profile } = await kernelRuntime();
  for (const [rows, cols, batch] of [
    [1, 1, 1],
    [7, 13, 2],
    [64, 33, 1],
  ] as const) {
    const x = randomF32(rows * cols * batch);
    const out = await runSteps({ x, out: { length: x.length } }, [{ instance: transpose(rows, cols, batch, profile) }]);
    const want = new Float64Array(x.length);
    for (let z = 0; z < batch; z++) want.set(refTranspose(f64(x.subarray(z * rows * cols, (z + 1) * rows * cols)), rows, cols), z * rows * cols);
    assertClose(out.out!, want, 0, `transpose ${rows}×${cols}×${batch}`);
  }
});

test.run();
