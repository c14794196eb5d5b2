import { test } from "uvu";
import { rope, type RopeShape } from "../../compiler/codegen/rope.js";
import { rope as ropeRef } from "../reference/rope.js";
import { assertClose, f64, kernelRuntime, randomF32, runSteps } from "../helpers/kernels.js";

// Angles are pos·inv_freq in f32, as in Hugging Face: the angle's rounding
// error grows with the position, so the bound depends on the largest one.
const BOUND_SHORT = 2e-5; // positions below 128
const BOUND_LONG = 2e-4; // positions up to ~1100

async function check(shape: RopeShape, posOffset: number, bound: number): Promise<void> {
  const { profile } = await kernelRuntime();
  const { batch, T, heads, headDim, theta } = shape;
  const n = batch * T * heads * headDim;
  const x = randomF32(n);
  const what = `rope ${JSON.stringify(shape)} offset ${posOffset}`;
  for (const inverse of [false, true]) {
    const instance = rope(shape, profile, inverse);
    const out = await runSteps(shape.inPlace ? { x } : { x, y: { length: n } }, [{ instance, params: { posOffset } }]);
    const want = ropeRef(f64(x), batch * T, T, heads, headDim, theta, posOffset, inverse);
    assertClose(shape.inPlace ? out.x! : out.y!, want, bound, `${what}${inverse ? " backward" : ""}`);
  }
}

test("RoPE forward and backward (rotate-half), several head shapes", async () => {
  await check({ batch: 2, T: 37, heads: 3, headDim: 16, theta: 10000 }, 0, BOUND_SHORT);
  await check({ batch: 1, T: 1, heads: 1, headDim: 2, theta: 10000 }, 5, BOUND_SHORT);
  await check({ batch: 1, T: 50, heads: 4, headDim: 64, theta: 500000 }, 60, BOUND_SHORT);
  await check({ batch: 1, T: 20, heads: 2, headDim: 10, theta: 10000, inPlace: true }, 1070, BOUND_LONG);
});

test.run();
