// The fixed cost of one dispatch on this adapter: a GEMM so small its work is
// nothing, recorded n times into one submit. Not run by tests.
//   node dist/bench/experiments/dispatch_overhead.js
import { gemm } from "../../compiler/codegen/gemm.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import { single, time } from "../measure.js";

const rt = await acquireRuntime();
for (const [M, N, K] of [[8, 8, 8], [64, 64, 64], [512, 8, 256], [8, 256, 512]] as const) {
  const inst = gemm({ M, N, K }, rt.profile);
  const r = await time(rt, { steps: single(inst), tensors: { a: M * K, b: K * N, c: M * N } }, { reps: 5, inner: 50 });
  console.log(`${M}x${N}x${K} ${inst.kernel.variant} dispatch ${inst.dispatch.join("x")}: ${(r.minMs * 1000).toFixed(0)} µs a dispatch`);
}
