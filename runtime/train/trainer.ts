// The training loop: micro-batches through forward, loss and backward on the
// GPU, AdamW every grad_accum of them, the loss read back only at logging
// steps, checkpoints written atomically, and the adapter saved in PEFT's
// layout. Everything that decides the run (data order, schedule, init) is a
// function of the seed and the step, so the same seed gives the same losses
// and a resumed run continues exactly where its checkpoint was written.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TrainSettings } from "../../compiler/bundle/train-settings.js";
import { tokenIo, type Graph } from "../../compiler/graph/types.js";
import { BatchStream, idsOf, targetsOf, type Sequence } from "../data/batches.js";
import { evaluateRows } from "../executor/evaluate-rows.js";
import { mixSeeds } from "../random.js";
import { GraphRunner, type TensorSource } from "../executor/graph-runner.js";
import { writeFileAtomic } from "../files/atomic.js";
import type { GpuRuntime } from "../gpu/index.js";
import { writeAdapters } from "../peft/adapter-files.js";
import { latestCheckpoint, writeCheckpoint } from "./checkpoint.js";
import { MetricsLog, type MetricRecord } from "./metrics.js";
import { lossCurveSvg } from "./plot.js";
import { learningRate } from "./schedule.js";

export class TrainingStopped extends Error {}

export interface Reporter {
  start(total: number, from: number): void;
  step(step: number, record: MetricRecord): void;
  note(line: string): void;
  /** Pipelines compiled so far before the first step (done = 0 when compiling starts). */
  compiling?(done: number, total: number): void;
  stop(): void;
}

export interface TrainJob {
  runtime: GpuRuntime;
  graph: Graph;
  wgsl: Map<string, string>;
  settings: TrainSettings;
  /** The bundle's identity: a checkpoint of another bundle is not resumed. */
  bundleId: string;
  weights: TensorSource["weight"];
  /** Base tensors as stored (packed 16-bit weights upload them as they are). */
  stored?: TensorSource["stored"];
  /** The model's tokenizer, for a text init. */
  tokenize?: TensorSource["tokenize"];
  train: Sequence[];
  evaluation: Sequence[];
  out: string;
  resume: boolean;
  /** adapter_config.json text per adapter name (from the bundle). */
  peftConfigs: Record<string, string>;
  /** Adapter name of each saved key's adapter. */
  adapterOfKey: (key: string) => string;
  reporter: Reporter;
  title: string;
}

export interface TrainResult {
  steps: number;
  firstLoss: number | undefined;
  lastLoss: number | undefined;
  evalLoss: number | undefined;
  adapterDir: string;
}

/** How the GPU side's start went, phase by phase. */
function readyLine(runner: GraphRunner, seconds: number): string {
  const c = runner.compile;
  if (!c) return `GPU ready in ${seconds.toFixed(1)} s`;
  const compiled = c.compiled === 0
    ? `${c.kernels} pipelines already compiled in this process`
    : `${c.kernels} pipelines prepared in ${c.seconds.toFixed(1)} s${c.devices > 1 ? ` on ${c.devices} devices side by side` : ""}`;
  return `GPU ready in ${seconds.toFixed(1)} s: ${compiled}, weights and buffers ${Math.max(0, seconds - c.seconds).toFixed(1)} s`;
}

/** The dropout masks of micro-batch k of a step: a function of the seed and position only. */
export function dropoutSeed(seed: number, step: number, micro: number): number {
  return mixSeeds(seed, step, micro);
}

const predicted = (targets: Int32Array) => targets.reduce((n, t) => n + (t >= 0 ? 1 : 0), 0);

/** Mean loss of the sequences in evaluation mode, per predicted token. */
async function evaluationLoss(runner: GraphRunner, sequences: Sequence[]): Promise<number> {
  const rows = await evaluateRows(runner, sequences.map((sequence) => ({ sequence, adapter: -1 })));
  const tokens = rows.reduce((n, r) => n + r.tokens, 0);
  return tokens > 0 ? rows.reduce((s, r) => s + r.sum, 0) / tokens : Number.NaN;
}

export async function train(job: TrainJob): Promise<TrainResult> {
  const { graph, settings: s } = job;
  mkdirSync(job.out, { recursive: true });
  const checkpoints = join(job.out, "checkpoints");
  const metrics = new MetricsLog(join(job.out, "metrics.jsonl"));
  const resumed = job.resume ? latestCheckpoint(checkpoints) : undefined;
  if (resumed && resumed.state.bundle !== job.bundleId) {
    throw new TrainingStopped(`${resumed.path} is a checkpoint of another spec or model: it cannot be resumed here (start without --resume, or use another --out)`);
  }
  if (job.resume && !resumed) job.reporter.note(`no checkpoint in ${checkpoints}: starting from step 0`);
  const kept: MetricRecord[] = resumed ? metrics.truncate(resumed.state.step, job.settings.steps) : [];
  if (!resumed && existsSync(metrics.path)) writeFileAtomic(metrics.path, "");

  const created = performance.now();
  const runner = await GraphRunner.create(job.runtime, graph, job.wgsl, { weight: job.weights, ...(job.stored ? { stored: job.stored } : {}), ...(job.tokenize ? { tokenize: job.tokenize } : {}), seed: s.seed },
    job.reporter.compiling ? { onCompile: (done, total) => job.reporter.compiling!(done, total) } : {});
  job.reporter.note(readyLine(runner, (performance.now() - created) / 1000));
  try {
    if (resumed) await restore(runner, resumed.tensors);
    const stream = new BatchStream(job.train, s.batch, s.seed, s.data.shuffle);
    const schedule = { ...s.schedule, lr: s.optimizer.lr, steps: s.steps };
    const start = resumed?.state.step ?? 0;
    const flat = graph.buffers.find((b) => b.name === graph.io.params);
    if (!flat) throw new TrainingStopped("the spec trains nothing: its adapters have no trained tensors");
    job.reporter.start(s.steps, start);
    const virtual = graph.io.virtualTokens ?? 0;
    const losses = new Float32Array(s.batch * graph.seqLen);
    const sumSq = new Float32Array(1);
    let firstLoss = kept.find((r) => r.loss !== undefined)?.loss;
    let lastLoss: number | undefined;
    let windowTokens = 0;
    let windowStart = Date.now();
    const began = Date.now();
    for (let step = start; step < s.steps; step++) {
      const micro = Array.from({ length: s.gradAccum }, (_, k) => stream.batchAt(step * s.gradAccum + k));
      const targets = micro.map((b) => targetsOf(b, s.seqLen, virtual));
      const counted = targets.reduce((n, t) => n + predicted(t), 0);
      // The loss of a step is the mean over every predicted token of its micro-batches.
      runner.setScalar("gradScale", counted > 0 ? 1 / counted : 0);
      runner.setScalar("training", 1);
      runner.setScalar("lr", learningRate(schedule, step));
      runner.setScalar("step", step + 1);
      for (let k = 0; k < s.gradAccum; k++) {
        runner.setScalar("dropoutSeed", dropoutSeed(s.seed, step, k));
        runner.write(tokenIo(graph).ids, idsOf(micro[k]!, s.seqLen, virtual));
        runner.write(tokenIo(graph).labels, targets[k]!);
        // The last micro-batch's submit carries the optimizer too: one wait per step fewer.
        const last = k === s.gradAccum - 1;
        await runner.run(last ? ["forward", "loss", "backward", "optimizer"] : ["forward", "loss", "backward"], k === 0 ? graph.zeroBeforeStep : []);
      }
      // Tokens processed (padding included), the figure a throughput is quoted in.
      windowTokens += s.gradAccum * s.batch * s.seqLen;
      const done = step + 1;
      const checkpointing = s.checkpointEvery > 0 && done % s.checkpointEvery === 0 && done !== s.steps;
      // A checkpoint step also checks the loss: a NaN must never reach a checkpoint.
      const log = done % s.logEvery === 0 || done === s.steps || step === start || checkpointing;
      if (log) {
        // The only readbacks of a step, at logging steps: the last micro-batch's losses and Σ grad².
        await runner.read(tokenIo(graph).loss, losses);
        const lastTargets = targets[s.gradAccum - 1]!;
        let total = 0;
        for (let i = 0; i < losses.length; i++) if (lastTargets[i]! >= 0) total += losses[i]!;
        const loss = total / Math.max(1, predicted(lastTargets));
        if (graph.io.gradSumSq) await runner.read(graph.io.gradSumSq, sumSq);
        if (!Number.isFinite(loss) || !Number.isFinite(sumSq[0]!)) {
          throw new TrainingStopped(`the loss became ${loss} at step ${done} (gradient norm ${Math.sqrt(sumSq[0]!)}): training stopped; `
            + `the last good checkpoint is kept in ${checkpoints}. Lower the learning rate or clip gradients (max_grad_norm).`);
        }
        const seconds = (Date.now() - windowStart) / 1000;
        const record: MetricRecord = {
          step: done,
          loss,
          lr: learningRate(schedule, step),
          grad_norm: Math.sqrt(sumSq[0]!),
          tokens: windowTokens,
          tokens_per_s: seconds > 0 ? windowTokens / seconds : 0,
          elapsed_s: (Date.now() - began) / 1000,
        };
        firstLoss ??= loss;
        lastLoss = loss;
        metrics.append(record);
        job.reporter.step(done, record);
        windowTokens = 0;
        windowStart = Date.now();
      }
      if (job.evaluation.length > 0 && s.evalEvery > 0 && done % s.evalEvery === 0 && done !== s.steps) {
        const record = { step: done, eval_loss: await evaluationLoss(runner, job.evaluation) };
        metrics.append(record);
        job.reporter.step(done, record);
      }
      if (checkpointing) {
        writeCheckpoint(checkpoints, { version: 1, step: done, bundle: job.bundleId, seed: s.seed }, await snapshot(runner));
      }
    }
    let evalLoss: number | undefined;
    if (job.evaluation.length > 0) {
      evalLoss = await evaluationLoss(runner, job.evaluation);
      const record = { step: s.steps, eval_loss: evalLoss };
      metrics.append(record);
      job.reporter.step(s.steps, record);
    }
    job.reporter.stop();
    const adapterDir = join(job.out, "adapter");
    await saveAdapters(runner, job, adapterDir);
    if (s.checkpointEvery > 0) writeCheckpoint(checkpoints, { version: 1, step: s.steps, bundle: job.bundleId, seed: s.seed }, await snapshot(runner));
    const history = metrics.read();
    writeFileAtomic(join(job.out, "loss.svg"), lossCurveSvg(job.title,
      history.filter((r) => r.loss !== undefined).map((r) => ({ step: r.step, loss: r.loss! })),
      history.filter((r) => r.eval_loss !== undefined).map((r) => ({ step: r.step, loss: r.eval_loss! }))));
    return { steps: s.steps, firstLoss, lastLoss, evalLoss, adapterDir };
  } finally {
    job.reporter.stop();
    runner.destroy();
  }
}

/** The trained tensors and AdamW's moments, as a checkpoint holds them. */
async function snapshot(runner: GraphRunner) {
  const { graph } = runner;
  const size = graph.buffers.find((b) => b.name === "params")!.size;
  const flat = { params: new Float32Array(size), m: new Float32Array(size), v: new Float32Array(size) };
  await runner.read("params", flat.params);
  await runner.read("adam_m", flat.m);
  await runner.read("adam_v", flat.v);
  const tensors = { params: new Map<string, Float32Array>(), m: new Map<string, Float32Array>(), v: new Map<string, Float32Array>(), shapes: new Map<string, number[]>() };
  for (const b of graph.buffers) {
    if (b.role !== "parameter" || !b.view) continue;
    // Views into the read-back flat buffers: the checkpoint writer copies each once, to the file.
    const slice = (a: Float32Array) => a.subarray(b.view!.offset, b.view!.offset + b.size);
    tensors.params.set(b.name, slice(flat.params));
    tensors.m.set(b.name, slice(flat.m));
    tensors.v.set(b.name, slice(flat.v));
    tensors.shapes.set(b.name, b.shape);
  }
  return tensors;
}

async function restore(runner: GraphRunner, tensors: Awaited<ReturnType<typeof snapshot>>): Promise<void> {
  const { graph } = runner;
  const size = graph.buffers.find((b) => b.name === "params")!.size;
  const flat = { params: new Float32Array(size), m: new Float32Array(size), v: new Float32Array(size) };
  for (const b of graph.buffers) {
    if (b.role !== "parameter" || !b.view) continue;
    const values = tensors.params.get(b.name);
    if (!values || values.length !== b.size) throw new TrainingStopped(`the checkpoint lacks ${b.name}: it does not belong to this spec`);
    flat.params.set(values, b.view.offset);
    flat.m.set(tensors.m.get(b.name)!, b.view.offset);
    flat.v.set(tensors.v.get(b.name)!, b.view.offset);
  }
  runner.write("params", flat.params);
  runner.write("adam_m", flat.m);
  runner.write("adam_v", flat.v);
}

/** The trained adapters in PEFT's layout: config from the bundle, tensors under their PEFT keys. */
export async function saveAdapters(runner: GraphRunner, job: Pick<TrainJob, "peftConfigs" | "adapterOfKey">, dir: string): Promise<void> {
  const { graph } = runner;
  const byAdapter = new Map<string, Map<string, { shape: number[]; data: Float32Array }>>();
  const size = graph.buffers.find((b) => b.name === "params")?.size ?? 0;
  const flat = new Float32Array(size);
  if (size > 0) await runner.read("params", flat);
  for (const b of graph.buffers) {
    if (!b.key) continue;
    let data: Float32Array;
    if (b.role === "parameter" && b.view) data = flat.slice(b.view.offset, b.view.offset + b.size);
    else if (b.role === "frozen") {
      data = new Float32Array(b.size);
      await runner.read(b.name, data);
    } else continue;
    const adapter = job.adapterOfKey(b.key);
    if (!byAdapter.has(adapter)) byAdapter.set(adapter, new Map());
    byAdapter.get(adapter)!.set(b.key, { shape: b.shape, data });
  }
  const adapters = [...byAdapter].map(([name, tensors]) => ({ name, config: job.peftConfigs[name] ?? null, tensors }));
  writeAdapters(dir, adapters);
}
