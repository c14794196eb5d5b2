// Attention query blocks: first-dispatch time (lavapipe compiles there; run
// with a fresh MESA_SHADER_CACHE_DIR) against steady time. Not run by tests.
//   node dist/bench/experiments/attention_blocks.js [T] [BQ,BQ,...]
import { attentionBackward, attentionForward, type AttentionShape } from "../../compiler/codegen/attention.js";
import type { KernelPlan } from "../../compiler/codegen/types.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import { single, time } from "../measure.js";

const T = Number(process.argv[2] ?? 128);
const blocks = (process.argv[3] ?? "1,2,4").split(",").map(Number);
const shape: AttentionShape = { batch: 4, Tq: T, heads: 4, kvHeads: 2, headDim: 64 };
const rt = await acquireRuntime();
const q = 4 * T * 4 * 64;
const kv = 4 * T * 2 * 64;
const lse = 4 * 4 * T;
for (const BQ of blocks) {
  const force = { BQ, BK: BQ, WG: 16, reason: "forced" };
  const fwd = attentionForward(shape, rt.profile, force);
  const bwd: KernelPlan = attentionBackward(shape, rt.profile, force);
  const tensors: Record<string, number> = { q_in: q, k_in: kv, v_in: kv, out: q, lse, q, k: kv, v: kv, dout: q, dq: q, dk: kv, dv: kv, ...bwd.scratch };
  for (const [name, steps] of [["forward", single(fwd)], ["backward", bwd.steps]] as const) {
    const t0 = performance.now();
    await time(rt, { steps: [...steps], tensors }, { reps: 1, inner: 1 });
    const first = (performance.now() - t0) / 1000;
    const r = await time(rt, { steps: [...steps], tensors }, { reps: 5, inner: 2 });
    console.log(`T ${T} BQ ${BQ} ${name.padEnd(8)} first ${first.toFixed(2)} s  steady ${r.minMs.toFixed(2)} ms`);
  }
}
process.exit(0);
