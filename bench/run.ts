// peftc's kernel benchmarks on this machine's WebGPU adapter:
//   npm run bench            a table
//   npm run bench -- --json  the same figures as JSON
//   npm run bench -- --quick fewer repetitions; --kernels-only skips the training steps (bench/train.ts)
// Every GEMM-like figure is shown beside the machine's FP32 ceiling measured
// on the same run (numpy sgemm on the same cores) and beside a naive WGSL
// GEMM. Never part of npm test. Notes on what was tried: bench/NOTES.md.
import { adamw, adamwSegmentTable } from "../compiler/codegen/adamw.js";
import { attentionBackward, attentionForward, type AttentionShape } from "../compiler/codegen/attention.js";
import { crossEntropy } from "../compiler/codegen/cross_entropy.js";
import { gemm, type GemmShape } from "../compiler/codegen/gemm.js";
import { naiveGemm } from "../compiler/codegen/gemm_naive.js";
import { gemmPlan } from "../compiler/codegen/gemm_plan.js";
import { loraLinearBackward, loraLinearForward, type LoraLinearShape } from "../compiler/codegen/lora.js";
import { normForward } from "../compiler/codegen/norm.js";
import { transpose } from "../compiler/codegen/transpose.js";
import type { KernelPlan } from "../compiler/codegen/types.js";
import { releaseDevice } from "../runtime/device.js";
import { acquireRuntime, type GpuRuntime } from "../runtime/gpu/index.js";
import { compactTable, renderTable } from "../bin/commands/table.js";
import { measureCeiling } from "./ceiling.js";
import { FMA_INVOCATIONS, fmaPeakKernel } from "./fma_peak.js";
import { single, time, timeInterleaved, type Timing, type Workload } from "./measure.js";
import { formatTrainRows, trainBenchmarks } from "./train.js";
import { formatStart, startBench, type StartBench } from "./compile.js";
import { formatStepProfile, profileStep, type StepProfile } from "./step.js";

interface Result {
  name: string;
  shape: string;
  variant: string;
  /** The fastest repetition: the host's noise only ever slows a run down. */
  ms: number;
  medianMs: number;
  gflops?: number;
  gbps?: number;
  vsCeiling?: number;
  vsFmaPeak?: number;
  vsNaive?: number;
  note?: string;
}

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
const kernelsOnly = process.argv.includes("--kernels-only");
const log = (s: string) => {
  if (!json) process.stderr.write(`${s}\n`);
};

function gemmWork(shape: GemmShape, rt: GpuRuntime): Workload {
  const { M, N, K } = shape;
  return { steps: single(gemm(shape, rt.profile)), tensors: { a: M * K, b: K * N, c: M * N } };
}

/** The GEMM as the compiler plans it (on CPU adapters NT may become transpose + NN). */
function gemmPlanWork(shape: GemmShape, rt: GpuRuntime): Workload {
  const { M, N, K } = shape;
  const plan = gemmPlan(shape, rt.profile);
  return { steps: plan.steps, tensors: { a: M * K, b: K * N, c: M * N, ...plan.scratch } };
}

const variantsOf = (w: Workload) => w.steps.map((s) => s.instance.kernel.variant).join(" + ");

function planWork(plan: KernelPlan, tensors: Record<string, number>): Workload {
  return { steps: plan.steps, tensors: { ...tensors, ...plan.scratch } };
}

async function main(): Promise<void> {
  const rt = await acquireRuntime();
  const results: Result[] = [];
  log(`adapter: ${rt.context.info.description || rt.context.info.device} (${rt.profile.kind}), LP_NUM_THREADS=${process.env.LP_NUM_THREADS}`);
  log("measuring the FP32 ceiling with numpy ...");
  const ceiling = measureCeiling();
  log(ceiling.note);
  const reps = quick ? 2 : 5;
  const peak = fmaPeakKernel();
  const tPeak = await time(rt, { steps: single(peak.instance), tensors: { out: FMA_INVOCATIONS * 4 } }, { reps: 3, inner: 1 });
  const fmaPeak = peak.flops / (tPeak.minMs * 1e6);
  log(`adapter FMA peak: ${fmaPeak.toFixed(1)} GFLOP/s`);

  // The host's speed changes within a run (it slows down under sustained
  // load), so each row is normalised by a peak probe taken just before it.
  let peakNow = fmaPeak;
  const probe = async () => {
    const t = await time(rt, { steps: single(peak.instance), tensors: { out: FMA_INVOCATIONS * 4 } }, { reps: 1, inner: 1 });
    peakNow = peak.flops / (t.minMs * 1e6);
  };
  const add = (r: Result) => {
    if (r.gflops !== undefined) r.vsFmaPeak = r.gflops / peakNow;
    results.push(r);
    log(`  ${r.name.padEnd(34)} ${r.shape.padEnd(26)} ${r.ms.toFixed(2).padStart(9)} ms${r.gflops ? `  ${r.gflops.toFixed(1)} GFLOP/s` : ""}${r.gbps ? `  ${r.gbps.toFixed(1)} GB/s` : ""}`);
  };
  const flopResult = (name: string, shape: string, variant: string, t: Timing, flops: number, ceilingGflops?: number): Result => {
    const gflops = flops / (t.minMs * 1e6);
    const r: Result = { name, shape, variant, ms: t.minMs, medianMs: t.ms, gflops };
    if (ceilingGflops) r.vsCeiling = gflops / ceilingGflops;
    return r;
  };

  const T = 2048;
  const H = 2048;
  const R = 16;
  // Fused LoRA linear against the base GEMM alone, in both W layouts, first
  // (the host slows down after some seconds of sustained load) and with their
  // repetitions interleaved so that each ratio sees one host speed.
  const fusedRatio: Record<string, number> = {};
  const fusedPair = async (wLayout: "in_out" | "out_in") => {
    const base = gemmPlanWork({ M: T, N: H, K: H, transB: wLayout === "out_in" }, rt);
    const lora: LoraLinearShape = { tokens: T, inFeatures: H, outFeatures: H, r: R, scale: 2, wLayout, planNT: true };
    const fused = loraLinearForward(lora, rt.profile);
    const fusedWork = planWork(fused, { x: T * H, W: H * H, lora_A: R * H, lora_B: H * R, y: T * H });
    await probe();
    const [tBase, tFused] = await timeInterleaved(rt, [base, fusedWork], { reps: quick ? 2 : 7, inner: 1 });
    const baseName = `base x·W${wLayout === "out_in" ? "ᵀ (W [out,in])" : " (Wᵀ stored)"}`;
    add(flopResult(baseName, `${T}×${H}×${H}`, variantsOf(base), tBase!, 2 * T * H * H, ceiling.sgemm2048));
    const fusedFlops = 2 * T * H * H + 2 * T * R * H * 2;
    const variants = fused.steps.map((s) => s.instance.kernel.variant).join(" + ");
    const r = flopResult(`fused LoRA linear r=${R} (${wLayout})`, `${T}×${H}×${H}`, variants, tFused!, fusedFlops, ceiling.sgemm2048);
    const ratio = tFused!.minMs / tBase!.minMs;
    r.note = `${ratio.toFixed(3)}× base${wLayout === "in_out" ? " (W pre-transposed)" : ""}`;
    fusedRatio[wLayout] = ratio;
    add(r);
  };
  await fusedPair("in_out");
  // Register-blocked GEMM in each layout, the naive GEMM of the same size
  // right beside it. The host (a shared VM) slows down after some seconds of
  // sustained load, so the figures the targets are about come first.
  const naive: Record<number, number> = {};
  for (const [n, layouts] of [
    [2048, ["nn", "tn"]],
    [1024, ["nn"]],
  ] as const) {
    const rows: Result[] = [];
    for (const layout of layouts) {
      await probe();
      const shape: GemmShape = { M: n, N: n, K: n, transA: layout[0] === "t", transB: layout[1] === "t" };
      const work = gemmWork(shape, rt);
      const t = await time(rt, work, { reps, inner: 1 });
      const r = flopResult(`GEMM ${layout.toUpperCase()}`, `${n}³`, work.steps[0]!.instance.kernel.variant, t, 2 * n ** 3, n === 1024 ? ceiling.sgemm1024 : ceiling.sgemm2048);
      add(r);
      rows.push(r);
    }
    await probe();
    const tn = await time(rt, { steps: single(naiveGemm(n, n, n)), tensors: { a: n * n, b: n * n, c: n * n } }, { reps: 1, inner: 1 });
    const rn = flopResult("naive WGSL GEMM", `${n}³`, "naive", tn, 2 * n ** 3, n === 1024 ? ceiling.sgemm1024 : ceiling.sgemm2048);
    naive[n] = rn.gflops!;
    add(rn);
    for (const r of rows) r.vsNaive = r.gflops! / naive[n]!;
  }

  await fusedPair("out_in");

  await probe();
  // Pre-transposing a frozen W once turns x·Wᵀ (NT) into the faster NN product.
  const tt = await time(rt, { steps: single(transpose(2048, 2048, 1, rt.profile)), tensors: { x: 2048 * 2048, out: 2048 * 2048 } }, { reps, inner: 2 });
  add({ name: "transpose (W → Wᵀ, once per weight)", shape: "2048×2048", variant: "plain", ms: tt.minMs, medianMs: tt.ms, gbps: (2048 * 2048 * 8) / (tt.minMs * 1e6) });

  await probe();
  // The two LoRA products at 2048 tokens × 2048 hidden, rank 16 (x·Aᵀ: NT against A [r, in]; u·Bᵀ: NT against B [out, r]).
  for (const [name, shape] of [
    ["LoRA x·Aᵀ", { M: T, N: R, K: H, transB: true }],
    ["LoRA (x·Aᵀ)·Bᵀ", { M: T, N: H, K: R, transB: true }],
  ] as const) {
    const work = gemmPlanWork(shape, rt);
    const t = await time(rt, work, { reps, inner: 4 });
    const r = flopResult(name, `${shape.M}×${shape.N}×${shape.K}`, variantsOf(work), t, 2 * shape.M * shape.N * shape.K, ceiling.sgemm2048);
    add(r);
  }

  const loraShape: LoraLinearShape = { tokens: T, inFeatures: H, outFeatures: H, r: R, scale: 2 };
  const bwd = loraLinearBackward(loraShape, rt.profile);
  const bwdTensors = { dy: T * H, x: T * H, u: T * R, W: H * H, lora_A: R * H, lora_B: H * R, dx: T * H, grad_A: R * H, grad_B: H * R };
  const tlb = await time(rt, planWork(bwd, bwdTensors), { reps, inner: 1 });
  const bwdVariants = bwd.steps.map((s) => s.instance.kernel.variant).join(" + ");
  add(flopResult(`LoRA linear backward r=${R}`, `${T}×${H}×${H}`, bwdVariants, tlb, 2 * T * H * H + 2 * T * R * H * 4, ceiling.sgemm2048));

  await probe();
  // Causal attention with GQA.
  const attn: AttentionShape = { batch: 1, Tq: 1024, heads: 8, kvHeads: 2, headDim: 64 };
  const qLen = attn.Tq * attn.heads * attn.headDim;
  const kvLen = attn.Tq * attn.kvHeads * attn.headDim;
  // Causal: about half of the Tq×Tk scores; 2 FLOPs per multiply-add, QKᵀ and PV.
  const attnFlops = 2 * 2 * ((attn.Tq * (attn.Tq + 1)) / 2) * attn.headDim * attn.heads;
  const fwd = attentionForward(attn, rt.profile);
  const tf = await time(rt, { steps: [{ instance: fwd, bind: {} }], tensors: { q_in: qLen, k_in: kvLen, v_in: kvLen, out: qLen, lse: attn.heads * attn.Tq } }, { reps, inner: 1 });
  add(flopResult("attention forward (causal, GQA 8/2)", "T=1024 D=64", fwd.kernel.variant, tf, attnFlops, ceiling.sgemm2048));
  const bwdPlan = attentionBackward(attn, rt.profile);
  const tb = await time(rt, planWork(bwdPlan, { q: qLen, k: kvLen, v: kvLen, out: qLen, lse: attn.heads * attn.Tq, dout: qLen, dq: qLen, dk: kvLen, dv: kvLen }), { reps: quick ? 1 : 3, inner: 1 });
  // Backward recomputes QKᵀ twice and does four more products of the same size.
  add(flopResult("attention backward", "T=1024 D=64", bwdPlan.steps.map((s) => s.instance.kernel.variant).join(" + "), tb, attnFlops * 3, ceiling.sgemm2048));

  await probe();
  // AdamW over 16M parameters in 64 tensors: 7 words moved per element.
  const count = 16 * 1024 * 1024;
  const segments = Array.from({ length: 64 }, (_, i) => ({ offset: i * (count / 64), length: count / 64, weightDecay: i % 2 ? 0.01 : 0 }));
  const opt = adamw({ count, segmentCount: 64, aligned4: true }, rt.profile);
  const ta = await time(
    rt,
    { steps: single(opt), tensors: { param: count, grad: count, m: count, v: count, segments: adamwSegmentTable(segments) }, params: { lr: 1e-4, step: 10, beta1: 0.9, beta2: 0.999, eps: 1e-8, gradScale: 1, maxNorm: 0 } },
    { reps, inner: 1 },
  );
  add({ name: "AdamW, 64 tensors", shape: "16M params", variant: opt.kernel.variant, ms: ta.minMs, medianMs: ta.ms, gbps: (count * 7 * 4) / (ta.minMs * 1e6) });

  await probe();
  // Row-wise kernels at training shapes, for scale.
  const ce = crossEntropy({ tokens: 256, vocab: 32000 }, rt.profile);
  const labels = Int32Array.from({ length: 256 }, (_, i) => (i * 7919) % 32000);
  const tc = await time(rt, { steps: single(ce), tensors: { logits: 256 * 32000, labels, loss: 256, dlogits: 256 * 32000 }, params: { gradScale: 1 / 256 } }, { reps, inner: 1 });
  add({ name: "cross-entropy + softmax + grad", shape: "256×32000", variant: ce.kernel.variant, ms: tc.minMs, medianMs: tc.ms, gbps: (256 * 32000 * 4 * 3) / (tc.minMs * 1e6) });
  const rms = normForward({ kind: "rms", rows: 2048, D: 2048, eps: 1e-5 }, rt.profile);
  const tr = await time(rt, { steps: single(rms), tensors: { x: 2048 * 2048, w: 2048, y: 2048 * 2048, rstdOut: 2048 } }, { reps, inner: 2 });
  add({ name: "RMSNorm forward", shape: "2048×2048", variant: rms.kernel.variant, ms: tr.minMs, medianMs: tr.ms, gbps: (2048 * 2048 * 4 * 3) / (tr.minMs * 1e6) });

  await probe();
  // The direct NT kernel at 2048³: slow on lavapipe (see bench/NOTES.md),
  // which is why the plan transposes B first; measured late.
  {
    const work = gemmWork({ M: 2048, N: 2048, K: 2048, transB: true }, rt);
    const t = await time(rt, work, { reps: quick ? 1 : 3, inner: 1 });
    add(flopResult("GEMM NT (direct kernel)", "2048³", variantsOf(work), t, 2 * 2048 ** 3, ceiling.sgemm2048));
  }

  for (const r of results) {
    if (r.name === "GEMM NT (direct kernel)") r.vsNaive = r.gflops! / naive[2048]!;
  }

  // The host's speed drifts (a shared VM): the peak again at the end shows by how much.
  const tPeakEnd = await time(rt, { steps: single(peak.instance), tensors: { out: FMA_INVOCATIONS * 4 } }, { reps: 3, inner: 1 });
  const fmaPeakEnd = peak.flops / (tPeakEnd.minMs * 1e6);
  const ceilingEnd = measureCeiling();
  const gemm2048 = results.find((r) => r.name === "GEMM NN" && r.shape === "2048³")!.gflops!;
  const targets = {
    gemm2048: { gflops: gemm2048, target: 25, met: gemm2048 >= 25 },
    fusedLora: {
      ratioWPretransposed: fusedRatio.in_out!,
      ratioWAsStored: fusedRatio.out_in!,
      target: 1.1,
      met: fusedRatio.in_out! <= 1.1 && fusedRatio.out_in! <= 1.1,
    },
  };
  const device = { description: rt.context.info.description, kind: rt.profile.kind, lpNumThreads: process.env.LP_NUM_THREADS, fmaPeakGflops: fmaPeak, fmaPeakEndGflops: fmaPeakEnd };
  // Whole training steps, after the kernels (the train graph reuses their pipelines).
  const training = kernelsOnly ? [] : await trainBenchmarks(rt, quick ? 2 : 5, log);
  // Where a step's time goes, at the speed issue's two reference sizes, and how long a first step waits cold and warm.
  const steps: StepProfile[] = [];
  const starts: StartBench[] = [];
  if (!kernelsOnly) {
    for (const [hidden, seqLen] of [[256, 128], [512, 256]] as const) steps.push(await profileStep(rt, hidden, seqLen, quick ? 2 : 5, log));
    log("cold and warm start of the hidden-256 step (child processes, fresh shader cache)");
    starts.push(startBench(256));
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ device, ceiling, ceilingEnd, results, targets, training, steps, starts }, null, 2)}\n`);
    return;
  }
  const table = compactTable(
    ["benchmark", "shape", "best ms", "GFLOP/s", "GB/s", "× ceiling", "× peak now", "× naive", "variant / note"],
    ["left", "left", "right", "right", "right", "right", "right", "right", "left"],
  );
  for (const r of results) {
    table.push([
      r.name,
      r.shape,
      r.ms.toFixed(2),
      r.gflops?.toFixed(1) ?? "",
      r.gbps?.toFixed(1) ?? "",
      r.vsCeiling?.toFixed(3) ?? "",
      r.vsFmaPeak?.toFixed(2) ?? "",
      r.vsNaive ? `${r.vsNaive.toFixed(1)}` : "",
      [r.variant, r.note].filter(Boolean).join("; "),
    ]);
  }
  process.stdout.write(`${renderTable(table)}\n\n`);
  process.stdout.write(`${ceiling.note}${ceiling.available ? `: ${ceiling.sgemm1024!.toFixed(1)} GFLOP/s at 1024³, ${ceiling.sgemm2048!.toFixed(1)} GFLOP/s at 2048³` : ""}\n`);
  if (ceilingEnd.available) process.stdout.write(`ceiling again at the end: ${ceilingEnd.sgemm1024!.toFixed(1)} / ${ceilingEnd.sgemm2048!.toFixed(1)} GFLOP/s\n`);
  process.stdout.write(`adapter FMA peak (vec4 FMA chains in registers): ${fmaPeak.toFixed(1)} GFLOP/s at the start, ${fmaPeakEnd.toFixed(1)} at the end; "× peak now" divides by a probe taken just before each row\n`);
  process.stdout.write(`target GEMM 2048³ ≥ 25 GFLOP/s: ${gemm2048.toFixed(1)} (${targets.gemm2048.met ? "met" : "NOT met"})\n`);
  process.stdout.write(
    `target fused LoRA (r=16) ≤ 1.10× base GEMM at 2048³: ${fusedRatio.in_out!.toFixed(3)}× with Wᵀ stored, ${fusedRatio.out_in!.toFixed(3)}× with W [out,in] (${targets.fusedLora.met ? "met" : "NOT met"})\n`,
  );
  if (training.length > 0) process.stdout.write(`\ntraining steps:\n${formatTrainRows(training)}\n`);
  for (const p of steps) process.stdout.write(`\nstep profile: ${formatStepProfile(p, 12)}\n`);
  for (const st of starts) process.stdout.write(`\nstart: ${formatStart(st)}\n`);
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await releaseDevice();
    process.exit(process.exitCode ?? 0);
  });
