import { test } from "uvu";
import { normBackward, normForward, normParamGrad, type NormShape } from "../../compiler/codegen/norm.js";
import { layernormBackward, layernormForward, rmsnormBackward, rmsnormForward } from "../reference/norm.js";
import { assertClose, f64, kernelRuntime, randomF32, runSteps } from "../helpers/kernels.js";

// Reductions of up to D terms in f32, then a few roundings per element.
const BOUND = 1e-5;
const SHAPES: [number, number][] = [
  [1, 64],
  [7, 33],
  [19, 1],
  [40, 260],
];

async function check(kind: NormShape["kind"], rows: number, D: number): Promise<void> {
  const { profile } = await kernelRuntime();
  const shape: NormShape = { kind, rows, D, eps: 1e-5 };
  const x = randomF32(rows * D, -2, 3);
  const w = randomF32(D, 0.5, 1.5);
  const b = randomF32(D);
  const dy = randomF32(rows * D);
  const dx0 = randomF32(rows * D);
  const what = `${kind}norm rows=${rows} D=${D}`;
  const layer = kind === "layer";
  const fwd = layer
    ? layernormForward(f64(x), f64(w), f64(b), rows, D, shape.eps)
    : { ...rmsnormForward(f64(x), f64(w), rows, D, shape.eps), mean: undefined };
  const bwd = layer
    ? layernormBackward(f64(dy), f64(x), f64(w), f64(b), rows, D, shape.eps)
    : { ...rmsnormBackward(f64(dy), f64(x), f64(w), rows, D, shape.eps), db: undefined };
  const out = await runSteps(
    { x, w, b, y: { length: rows * D }, mean: { length: rows }, rstdOut: { length: rows } },
    [{ instance: normForward(shape, profile) }],
  );
  assertClose(out.y!, fwd.y, BOUND, `${what} y`);
  assertClose(out.rstdOut!, fwd.rstd, BOUND, `${what} rstd`);
  if (layer) assertClose(out.mean!, fwd.mean!, BOUND, `${what} mean`);

  const saved = { rstdIn: out.rstdOut!, mean: out.mean! };
  const grads = await runSteps(
    { dy, x, w, ...saved, dx: dx0, dw: { length: D }, db: { length: D } },
    [
      { instance: normBackward(shape, profile, true) },
      { instance: normParamGrad(shape, profile) },
    ],
  );
  assertClose(grads.dx!, bwd.dx.map((v, i) => v + dx0[i]!), BOUND, `${what} dx (accumulated)`);
  assertClose(grads.dw!, bwd.dw, BOUND, `${what} dw`);
  if (layer) assertClose(grads.db!, bwd.db!, BOUND, `${what} db`);
}

test("RMSNorm forward, backward and weight gradient", async () => {
  for (const [rows, D] of SHAPES) await check("rms", rows, D);
});

test("LayerNorm forward, backward and weight/bias gradients", async () => {
  for (const [rows, D] of SHAPES) await check("layer", rows, D);
});

test.run();
