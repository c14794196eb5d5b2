// The GEMM with and without the LoRA term (r = 16) at 2048³, and the plain
// GEMM again, interleaved, best of 7: how finely a ratio can be measured here.
//   npm run build && node bench/experiments/lora_term.mjs
import { acquireRuntime } from "../../dist/runtime/gpu/index.js";
import { gemm } from "../../dist/compiler/codegen/gemm.js";
import { timeInterleaved, single } from "../../dist/bench/measure.js";
const rt = await acquireRuntime();
const n = 2048, R = 16;
const base = { steps: single(gemm({ M: n, N: n, K: n }, rt.profile)), tensors: { a: n*n, b: n*n, c: n*n } };
const withLora = { steps: single(gemm({ M: n, N: n, K: n, lora: { R, transL: true, scale: 2 } }, rt.profile)), tensors: { a: n*n, b: n*n, c: n*n, u: n*R, l: n*R } };
const base2 = { steps: single(gemm({ M: n, N: n, K: n }, rt.profile)), tensors: { a: n*n, b: n*n, c: n*n } };
const [t1, t2, t3] = await timeInterleaved(rt, [base, withLora, base2], { reps: 7, inner: 1 });
console.log("base", t1.minMs.toFixed(1), t1.ms.toFixed(1), "lora-term", t2.minMs.toFixed(1), t2.ms.toFixed(1), "base again", t3.minMs.toFixed(1), t3.ms.toFixed(1), "ratio", (t2.minMs/t1.minMs).toFixed(3), (t3.minMs/t1.minMs).toFixed(3));
process.exit(0);
