import { test } from "uvu";
import * as assert from "uvu/assert";
import { loraLinearBackward, loraLinearForward, type LoraLinearShape } from "../../compiler/codegen/lora.js";
import type { KernelPlan } from "../../compiler/codegen/types.js";
import { transpose } from "../reference/gemm.js";
import { loraBackward, loraForward } from "../reference/lora.js";
import { assertClose, f64, kernelRuntime, randomF32, runSteps, type TensorInit } from "../helpers/kernels.js";

// GEMM-like f32 work: 1e-5 relative Frobenius. The gradients chain two
// products (du = s·dy·B, then dA = duᵀ·x), and with one token and r = 1 du is
// a single short dot product that can cancel; their error is measured against
// the same computation on |inputs|, the scale f32 rounding is relative to.
const BOUND = 1e-5;
const abs = (a: Float64Array) => a.map(Math.abs);

function withScratch(plan: KernelPlan, tensors: Record<string, TensorInit>): Record<string, TensorInit> {
  const all = { ...tensors };
  for (const [name, length] of Object.entries(plan.scratch)) all[name] ??= { length };
  return all;
}

async function check(shape: LoraLinearShape): Promise<void> {
  const { profile } = await kernelRuntime();
  const { tokens: T, inFeatures: inF, outFeatures: outF, r, scale: s } = shape;
  const d = { T, inF, outF, r, s };
  const x = randomF32(T * inF);
  const W = randomF32(outF * inF);
  const A = randomF32(r * inF);
  // B is zero at PEFT's init; tests use random B so the low-rank path is exercised.
  const B = randomF32(outF * r);
  const bias = randomF32(outF);
  const dy = randomF32(T * outF);
  const inOut = shape.wLayout === "in_out";
  const Wbound = inOut ? Float32Array.from(transpose(f64(W), outF, inF)) : W;
  const want = loraForward(d, f64(x), f64(W), f64(A), f64(B), shape.bias ? f64(bias) : undefined);
  const fwd = loraLinearForward(shape, profile);
  const out = await runSteps(withScratch(fwd, { x, W: Wbound, lora_A: A, lora_B: B, bias, y: { length: T * outF } }), fwd.steps);
  const what = `lora ${JSON.stringify(shape)}`;
  assertClose(out.u!, want.u, BOUND, `${what} u`);
  assertClose(out.y!, want.y, BOUND, `${what} y`);

  const bwd = loraLinearBackward(shape, profile);
  const grads = await runSteps(
    withScratch(bwd, {
      dy,
      x,
      u: Float32Array.from(want.u),
      W: Wbound,
      lora_A: A,
      lora_B: B,
      dx: { length: T * inF },
      grad_A: { length: r * inF },
      grad_B: { length: outF * r },
    }),
    bwd.steps,
  );
  const g = loraBackward(d, f64(dy), f64(x), f64(W), f64(A), f64(B));
  const gAbs = loraBackward(d, abs(f64(dy)), abs(f64(x)), abs(f64(W)), abs(f64(A)), abs(f64(B)));
  assertClose(grads.dx!, g.dx, BOUND, `${what} dx`, gAbs.dx);
  assertClose(grads.grad_A!, g.dA, BOUND, `${what} dA`, gAbs.dA);
  assertClose(grads.grad_B!, g.dB, BOUND, `${what} dB`, gAbs.dB);
}

test("fused LoRA linear forward and backward, W as stored [out, in]", async () => {
  const { profile } = await kernelRuntime();
  // Callers index the steps: forward [x·Aᵀ, main], backward [du, dB, dA, dx].
  assert.is(loraLinearForward({ tokens: 130, inFeatures: 96, outFeatures: 72, r: 16, scale: 1 }, profile).steps.length, 2);
  assert.is(loraLinearBackward({ tokens: 130, inFeatures: 96, outFeatures: 72, r: 16, scale: 1, wLayout: "in_out" }, profile).steps.length, 4);
  await check({ tokens: 37, inFeatures: 48, outFeatures: 40, r: 8, scale: 2 });
  await check({ tokens: 1, inFeatures: 19, outFeatures: 23, r: 1, scale: 0.5, bias: true });
  await check({ tokens: 130, inFeatures: 96, outFeatures: 72, r: 16, scale: 0.25 });
});

test("fused LoRA linear with W pre-transposed [in, out]", async () => {
  await check({ tokens: 29, inFeatures: 33, outFeatures: 44, r: 4, scale: 1.5, wLayout: "in_out", bias: true });
});

test("fused LoRA linear with NT products planned as transpose + NN", async () => {
  // Enough tokens for the CPU plan to transpose A and W (forward) and Wᵀ (backward).
  await check({ tokens: 128, inFeatures: 20, outFeatures: 36, r: 2, scale: 1, wLayout: "in_out", planNT: true });
  await check({ tokens: 130, inFeatures: 96, outFeatures: 72, r: 16, scale: 0.25, planNT: true, bias: true });
});

test.run();
