// GEMM tilings at a training step's shapes: for each shape and register
// block, the first dispatch's extra time (lavapipe compiles there; run with
// MESA_SHADER_CACHE_DISABLE=true) and the steady GFLOP/s. Not run by tests.
//   node dist/bench/experiments/step_tilings.js
import { gemm, type GemmShape, type GemmTiling } from "../../compiler/codegen/gemm.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import { single, time } from "../measure.js";

const custom = process.argv[3]?.split(";").map((t): [string, GemmShape] => { const [M, N, K] = t.split(",").map(Number); return [t, { M: M!, N: N!, K: K! }]; });
const shapes: [string, GemmShape][] = custom ?? [
  ["up 512x688x256", { M: 512, N: 688, K: 256 }],
  ["down 512x256x688", { M: 512, N: 256, K: 688 }],
  ["q 512x256x256", { M: 512, N: 256, K: 256 }],
  ["h512 up 1024x1376x512", { M: 1024, N: 1376, K: 512 }],
];
const tilings: GemmTiling[] = JSON.parse(process.argv[2] ?? "null") ?? [
  { TM: 16, TNV: 4, WX: 8, WY: 2 },
  { TM: 8, TNV: 4, WX: 4, WY: 8 },
  { TM: 8, TNV: 4, WX: 4, WY: 4 },
  { TM: 8, TNV: 2, WX: 8, WY: 4 },
  { TM: 4, TNV: 4, WX: 8, WY: 4 },
  { TM: 4, TNV: 2, WX: 8, WY: 4 },
];
const rt = await acquireRuntime();
for (const [name, shape] of shapes) {
  for (const t of tilings) {
    const inst = gemm(shape, rt.profile, t);
    const tensors = { a: shape.M * shape.K, b: shape.K * shape.N, c: shape.M * shape.N };
    const t0 = performance.now();
    await time(rt, { steps: single(inst), tensors }, { reps: 1, inner: 1 });
    const first = performance.now() - t0;
    const r = await time(rt, { steps: single(inst), tensors }, { reps: 5, inner: 3 });
    const gf = (2 * shape.M * shape.N * shape.K) / (r.minMs * 1e6);
    console.log(`${name.padEnd(24)} ${`${t.TM}x${4 * t.TNV} wg ${t.WX}x${t.WY}`.padEnd(16)} first ${(first / 1000).toFixed(2)} s  ${r.minMs.toFixed(2)} ms  ${gf.toFixed(1)} GFLOP/s  wgsl ${inst.kernel.wgsl.length}`);
  }
}
