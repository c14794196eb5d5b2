import { test } from "uvu";
import { normBackward, normForward, normParamGrad, type NormShape } from "../../compiler/codegen/norm.js";
import { layernormBackward, layernormForward, rmsnormBackward, rmsnormForward } from "../reference/norm.js";
import { assertClose, f64, kernelRuntime, randomF32, runSteps } from "../helpers/kernels.js";

// Reductions of up to D terms in f32, then a few roundings per element.
// dx = rstd·(g − x̂·mean(g·x̂)) cancels (exactly so as D → 1, where dx → 0), so
// its error is measured against rstd·(|g| + |x̂|·mean|g·x̂|), the scale of
// the f32 rounding in that difference.
const BOUND = 1e-5;

function dxScale(layer: boolean, dy: Float32Array, x: Float32Array, w: Float32Array, rows: number, D: number, eps: number) {
  const scale = new Float64Array(rows * D);
  for (let r = 0; r < rows; r++) {
    const row = f64(x.subarray(r * D, (r + 1) * D));
    const mu = layer ? row.reduce((a, b) => a + b, 0) / D : 0;
    const rstd = 1 / Math.sqrt(row.reduce((a, b) => a + (b - mu) ** 2, 0) / D + eps);
    let gAbs = 0;
    let gxAbs = 0;
    for (let i = 0; i < D; i++) {
      gAbs += Math.abs(dy[r * D + i]! * w[i]!);
      gxAbs += Math.abs(dy[r * D + i]! * w[i]! * (row[i]! - mu) * rstd);
    }
    for (let i = 0; i < D; i++) {
      const xhat = Math.abs((row[i]! - mu) * rstd);
      scale[r * D + i] = rstd * (Math.abs(dy[r * D + i]! * w[i]!) + (layer ? gAbs / D : 0) + (xhat * gxAbs) / D);
    }
  }
  return scale;
}
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
    { dy, x, w, ...saved, dx: { length: rows * D }, dx2: dx0, dw: { length: D }, db: { length: D } },
    [
      { instance: normBackward(shape, profile) },
      { instance: normBackward(shape, profile, true), bind: { dx: "dx2" } },
      { instance: normParamGrad(shape, profile) },
    ],
  );
  const scale = dxScale(layer, dy, x, w, rows, D, shape.eps);
  assertClose(grads.dx!, bwd.dx, BOUND, `${what} dx`, scale);
  assertClose(grads.dx2!, bwd.dx.map((v, i) => v + dx0[i]!), BOUND, `${what} dx (accumulated)`);
  // dw and db are sums over rows that may cancel (D = 1: x̂ = ±1): their f32 error is relative to Σ|terms|.
  const xhat = (r: number, c: number) => (x[r * D + c]! - (layer ? fwd.mean![r]! : 0)) * fwd.rstd[r]!;
  const columnScale = (term: (r: number, c: number) => number) =>
    Float64Array.from({ length: D }, (_, c) => Array.from({ length: rows }, (_, r) => Math.abs(term(r, c))).reduce((a, v) => a + v, 0));
  assertClose(grads.dw!, bwd.dw, BOUND, `${what} dw`, columnScale((r, c) => dy[r * D + c]! * xhat(r, c)));
  if (layer) assertClose(grads.db!, bwd.db!, BOUND, `${what} db`, columnScale((r, c) => dy[r * D + c]!));
}

test("RMSNorm forward, backward and weight gradient", async () => {
  for (const [rows, D] of SHAPES) await check("rms", rows, D);
});

test("LayerNorm forward, backward and weight/bias gradients", async () => {
  for (const [rows, D] of SHAPES) await check("layer", rows, D);
});

test.run();
