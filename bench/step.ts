// Where a training step's time goes: one LoRA step of a Llama-style model
// (r = 8 on all seven projections, AdamW), timed whole (best of several) and
// op by op (GPU timestamps), with the step's useful FLOPs over its time beside
// the adapter's FMA peak measured in the same run.
//   node dist/bench/step.js [--hidden 256] [--tokens 128] [--top 15] [--json]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lowerCausalLM } from "../compiler/graph/causal-lm.js";
import type { Graph } from "../compiler/graph/types.js";
import type { ModelTree } from "../compiler/models/types.js";
import { loadModel, type LoadedModel } from "../compiler/models/load.js";
import type { Plan } from "../compiler/resolve/plan-types.js";
import { buildPlan } from "../compiler/resolve/plan.js";
import { analyzeSpec } from "../compiler/spec/analyze.js";
import { releaseDevice } from "../runtime/device.js";
import { GraphRunner, type OpTiming } from "../runtime/executor/graph-runner.js";
import { readFloat32 } from "../runtime/files/checkpoint.js";
import { acquireRuntime, type GpuRuntime } from "../runtime/gpu/index.js";
import { writeTinyModel } from "../tests/fixtures/models.js";
import { FMA_INVOCATIONS, fmaPeakKernel } from "./fma_peak.js";
import { single, time } from "./measure.js";

export const LORA_ALL_SEVEN = 'adapter a: lora { r = 8  alpha = 16  target "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" }';
const OPTIMIZER = { lr: 1e-4, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1 };

export interface StepProfile {
  model: string;
  tokens: number;
  kernels: number;
  dispatches: number;
  /** Seconds from creating the runner (pipelines compiled) to the end of the first step. */
  firstStepSeconds: number;
  /** Of those, compiling pipelines: seconds, how many this process compiled, on how many devices side by side. */
  compile: { seconds: number; compiled: number; devices: number };
  msPerStep: number;
  tokensPerSecond: number;
  /** Useful FLOPs of one step (see stepFlops). */
  flops: number;
  gflops: number;
  fmaPeakGflops: number;
  vsFmaPeak: number;
  /** The ops' times summed by kind (family and label), slowest first. */
  top: { what: string; ms: number; share: number; dispatches: number }[];
}

/** The reference model of the speed issue: Llama-style, 4 blocks, vocabulary 259. */
export function referenceModel(hidden: number): LoadedModel {
  const dir = join(mkdtempSync(join(tmpdir(), "peftc-step-bench-")), "llama");
  const intermediate = hidden === 256 ? 688 : hidden === 512 ? 1376 : Math.round((hidden * 8) / 3 / 8) * 8;
  writeTinyModel(dir, "llama", { hidden, heads: hidden / 64, kvHeads: Math.max(1, hidden / 128), intermediate, layers: 4 });
  return loadModel(dir);
}

/**
 * The useful FLOPs of one training step: every linear's forward product and
 * input gradient (frozen weights get no weight gradient), each adapter's
 * low-rank products forward and backward (input and both factor gradients),
 * and causal attention's two products forward and five backward. Norms,
 * elementwise ops and the optimizer are not counted: they are memory-bound.
 */
export function stepFlops(tree: ModelTree, plan: Plan, tokens: number, seqLen: number): number {
  let flops = 0;
  const ranks = new Map<string, number>();
  for (const a of plan.adapters) for (const m of a.modules) ranks.set(m.path, Number(m.hyperparameters.r ?? 0));
  for (const m of tree.modules) {
    if (m.kind !== "linear" && m.kind !== "conv1d") continue;
    const product = 2 * tokens * m.inFeatures * m.outFeatures;
    flops += 2 * product;
    const r = ranks.get(m.path) ?? 0;
    if (r > 0) flops += 3 * 2 * tokens * r * (m.inFeatures + m.outFeatures);
  }
  const c = tree.config;
  // Each query attends to (t + 1) keys on average over t: about seqLen / 2.
  const perProduct = 2 * tokens * ((seqLen + 1) / 2) * c.headDim * c.heads;
  flops += c.layers * perProduct * (2 + 5);
  return flops;
}

function summarize(timings: OpTiming[]): StepProfile["top"] {
  const total = timings.reduce((s, t) => s + t.ms, 0);
  const byKind = new Map<string, { ms: number; dispatches: number }>();
  for (const t of timings) {
    // "model.layers.3.self_attn.q_proj lora forward" → "self_attn.q_proj lora forward"; "block 2 attention" → "attention".
    const what = `${t.phase} ${t.family}: ${t.label.replace(/^model\.layers\.\d+\.|^block \d+ /, "")}`;
    const entry = byKind.get(what) ?? { ms: 0, dispatches: 0 };
    entry.ms += t.ms;
    entry.dispatches += 1;
    byKind.set(what, entry);
  }
  return [...byKind].map(([what, e]) => ({ what, ms: e.ms, share: e.ms / total, dispatches: e.dispatches })).sort((a, b) => b.ms - a.ms);
}

async function fmaPeak(rt: GpuRuntime): Promise<number> {
  const peak = fmaPeakKernel();
  const t = await time(rt, { steps: single(peak.instance), tensors: { out: FMA_INVOCATIONS * 4 } }, { reps: 3, inner: 1 });
  return peak.flops / (t.minMs * 1e6);
}

export async function profileStep(rt: GpuRuntime, hidden: number, seqLen: number, reps: number, log: (s: string) => void = () => {}): Promise<StepProfile> {
  const model = referenceModel(hidden);
  const batch = 4;
  const tokens = batch * seqLen;
  const spec = analyzeSpec({ path: "bench.peft", text: `peft 1\n${LORA_ALL_SEVEN}\n` });
  const plan = buildPlan(spec.ir!, model.tree).plan!;
  const { graph, wgsl } = lowerCausalLM({ tree: model.tree, plan, batch, seqLen, device: rt.profile, optimizer: OPTIMIZER });
  const c = model.tree.config;
  const name = `Llama hidden ${c.hiddenSize}, ${c.layers} blocks, intermediate ${c.intermediateSize}, vocab ${c.vocabSize}; LoRA r=8 on 7 projections; ${batch} × ${seqLen} tokens`;
  log(`step profile: ${name}`);
  const phases = ["forward", "loss", "backward", "optimizer"] as const;
  const t0 = performance.now();
  const runner = await GraphRunner.create(rt, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), seed: 1 });
  try {
    writeTokens(runner, graph, model, seqLen);
    await runner.run([...phases], graph.zeroBeforeStep);
    const firstStepSeconds = (performance.now() - t0) / 1000;
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const start = performance.now();
      await runner.run([...phases], graph.zeroBeforeStep);
      times.push(performance.now() - start);
    }
    const msPerStep = Math.min(...times);
    const timings = await runner.profile([...phases], graph.zeroBeforeStep);
    const fmaPeakGflops = await fmaPeak(rt);
    const flops = stepFlops(model.tree, plan, tokens, seqLen);
    const gflops = flops / (msPerStep * 1e6);
    const dispatches = phases.reduce((n, p) => n + graph.phases[p].length, 0);
    return {
      model: name, tokens, kernels: Object.keys(graph.kernels).length, dispatches, firstStepSeconds,
      compile: { seconds: runner.compile?.seconds ?? 0, compiled: runner.compile?.compiled ?? 0, devices: runner.compile?.devices ?? 1 }, msPerStep,
      tokensPerSecond: tokens / (msPerStep / 1000), flops, gflops, fmaPeakGflops, vsFmaPeak: gflops / fmaPeakGflops, top: summarize(timings),
    };
  } finally {
    runner.destroy();
    rmSync(join(model.checkpoint.dir, ".."), { recursive: true, force: true });
  }
}

function writeTokens(runner: GraphRunner, graph: Graph, model: LoadedModel, seqLen: number): void {
  const tokens = graph.batch * graph.seqLen;
  const ids = Int32Array.from({ length: tokens }, (_, i) => 1 + ((i * 7919) % (model.tree.config.vocabSize - 1)));
  runner.write("ids", ids);
  runner.write("labels", Int32Array.from(ids, (v, i) => (i % seqLen === seqLen - 1 ? -100 : v)));
  runner.setScalar("gradScale", 1 / tokens);
  runner.setScalar("lr", 1e-4);
  runner.setScalar("step", 1);
}

export function formatStepProfile(p: StepProfile, top: number): string {
  const lines = [
    p.model,
    `  ${p.kernels} kernels, ${p.dispatches} dispatches a step; first step ${p.firstStepSeconds.toFixed(1)} s after the runner was created (this cache's state),`,
    `  of which ${p.compile.seconds.toFixed(1)} s preparing ${p.compile.compiled} pipelines on ${p.compile.devices} device${p.compile.devices === 1 ? "" : "s"} side by side`,
    `  ${p.msPerStep.toFixed(1)} ms a step, ${Math.round(p.tokensPerSecond)} tokens/s, ${(p.flops / p.tokens / 1e6).toFixed(1)} MFLOP a token: ${p.gflops.toFixed(1)} GFLOP/s = ${p.vsFmaPeak.toFixed(2)} × the FMA peak (${p.fmaPeakGflops.toFixed(1)} GFLOP/s, this run)`,
    `  top ops (GPU time of each op in a pass of its own):`,
  ];
  for (const t of p.top.slice(0, top)) lines.push(`    ${(100 * t.share).toFixed(1).padStart(5)}%  ${t.ms.toFixed(2).padStart(8)} ms  ×${String(t.dispatches).padEnd(3)} ${t.what}`);
  return lines.join("\n");
}

const isMain = process.argv[1]?.endsWith("bench/step.js");
if (isMain) {
  const argv = process.argv.slice(2);
  const value = (flag: string, d: number) => (argv.includes(flag) ? Number(argv[argv.indexOf(flag) + 1]) : d);
  const json = argv.includes("--json");
  const rt = await acquireRuntime();
  const profile = await profileStep(rt, value("--hidden", 256), value("--tokens", 128), value("--reps", 5), (s) => (json ? undefined : process.stderr.write(`${s}\n`)));
  process.stdout.write(json ? `${JSON.stringify(profile, null, 2)}\n` : `${formatStepProfile(profile, value("--top", 15))}\n`);
  await releaseDevice();
  process.exit(0);
}
