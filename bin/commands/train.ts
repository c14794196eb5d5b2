import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { compileSpec, sha256, type CompiledBundle } from "../../compiler/bundle/compile.js";
import type { TrainSettings } from "../../compiler/bundle/train-settings.js";
import { writeBundle, bundleIndex } from "../../compiler/bundle/write.js";
import { UserError } from "../../compiler/errors.js";
import { loadModel, type LoadedModel } from "../../compiler/models/load.js";
import { ModelError } from "../../compiler/models/types.js";
import { hasErrors } from "../../grammar/diagnostics.js";
import { BundleError, isBundle, readBundle } from "../../runtime/bundle/read.js";
import { DataError } from "../../runtime/data/examples.js";
import { TokenizerError } from "../../runtime/data/tokenizer.js";
import { readFloat32, readStored } from "../../runtime/files/checkpoint.js";
import { acquireRuntime, type GpuRuntime } from "../../runtime/gpu/index.js";
import { claimDirectoryOutput, createMarkedDirectory, removeCreatedDirectory, type OutputInput } from "../../runtime/files/outputs.js";
import { train, TrainingStopped } from "../../runtime/train/trainer.js";
import type { Io } from "../io.js";
import { loadTrainingData, modelTokenizer } from "./data.js";
import { progressReporter } from "./progress.js";
import { printDiagnostics } from "./report.js";
import { loadValidSpec, ReportedError, specInputs } from "./spec.js";

export interface TrainOptions {
  model?: string;
  data?: string;
  out?: string;
  steps?: number;
  resume?: boolean;
  adapter?: string;
  json?: boolean;
}

interface Prepared {
  /** A bundle compiled from a spec, to be written into the run directory. */
  bundle?: CompiledBundle;
  /** What the run must never write over. */
  inputs: OutputInput[];
  graph: CompiledBundle["graph"];
  wgsl: Map<string, string>;
  settings: TrainSettings;
  peftConfigs: Record<string, string>;
  model: LoadedModel;
  bundleId: string;
  /** The directory relative paths in the settings are resolved against. */
  base: string;
  keys: Map<string, string>;
  title: string;
}

/** Trains a spec's (or a bundle's) adapter on the GPU and saves it in PEFT's layout. */
export async function trainCommand(io: Io, input: string, options: TrainOptions): Promise<number> {
  const runtime = await acquireRuntime();
  try {
    const prepared = isBundle(input) ? fromBundle(input, options) : fromSpec(io, input, options, runtime.profile);
    const { settings } = prepared;
    const dataPath = options.data ? resolve(options.data) : resolveFrom(prepared.base, settings.data.path);
    const evalPath = settings.data.eval ? resolveFrom(prepared.base, settings.data.eval) : undefined;
    const dataInputs = [dataPath, ...(evalPath ? [evalPath] : [])].map((path) => ({ path, what: "the training data" }));
    const out = claimDirectoryOutput(options.out ?? join("runs", settings.adapter), "run", [...prepared.inputs, ...dataInputs], "--out");
    // Bad data fails here, before the run directory exists.
    const data = loadTrainingData(prepared.model, settings, dataPath, evalPath);
    const created = createMarkedDirectory(out, "run");
    try {
      if (prepared.bundle) writeBundle(join(out, "bundle"), prepared.bundle);
      if (!isBundle(input)) io.err(`compiled ${input}: ${Object.keys(prepared.graph.kernels).length} kernels, ${prepared.graph.phases.forward.length + prepared.graph.phases.backward.length} dispatches a micro-batch`);
      return await runTraining(io, runtime, prepared, data, out, options);
    } catch (e) {
      // A run that failed before it wrote anything worth keeping leaves nothing behind.
      if (created) removeCreatedDirectory(out, (dir) => existsSync(join(dir, "metrics.jsonl")) || existsSync(join(dir, "checkpoints")));
      throw e;
    }
  } catch (e) {
    if (e instanceof DataError || e instanceof TokenizerError || e instanceof TrainingStopped || e instanceof BundleError || e instanceof ModelError) {
      throw new UserError(e.message);
    }
    throw e;
  }
}

async function runTraining(io: Io, runtime: GpuRuntime, prepared: Prepared, data: ReturnType<typeof loadTrainingData>, out: string, options: TrainOptions): Promise<number> {
  const { settings } = prepared;
  const result = await train({
    runtime,
    graph: prepared.graph,
    wgsl: prepared.wgsl,
    settings,
    bundleId: prepared.bundleId,
    weights: (name) => readFloat32(prepared.model.checkpoint, name),
    stored: (name) => readStored(prepared.model.checkpoint, name),
    tokenize: (text) => modelTokenizer(prepared.model).encodeWithSpecial(text),
    train: data.train,
    evaluation: data.evaluation,
    out,
    resume: options.resume ?? false,
    peftConfigs: prepared.peftConfigs,
    adapterOfKey: (key) => prepared.keys.get(key) ?? settings.adapter,
    reporter: progressReporter(io),
    title: prepared.title,
  });
  const summary = {
    steps: result.steps,
    first_loss: result.firstLoss ?? null,
    last_loss: result.lastLoss ?? null,
    eval_loss: result.evalLoss ?? null,
    adapter: result.adapterDir,
    metrics: join(out, "metrics.jsonl"),
    plot: join(out, "loss.svg"),
  };
  if (options.json) io.out(JSON.stringify(summary, null, 2));
  else {
    io.out(`trained ${settings.adapter} for ${result.steps} steps: loss ${result.firstLoss?.toFixed(4)} → ${result.lastLoss?.toFixed(4)}${result.evalLoss !== undefined ? `, eval loss ${result.evalLoss.toFixed(4)}` : ""}`);
    const format = prepared.peftConfigs[settings.adapter] !== undefined ? "PEFT format" : "tensors under PEFT's modules_to_save names; PEFT has no config for this method";
    io.out(`adapter: ${result.adapterDir} (${format})`);
    io.out(`metrics: ${summary.metrics}, loss curve: ${summary.plot}`);
  }
  return 0;
}

function resolveFrom(base: string, path: string): string {
  return isAbsolute(path) ? path : resolve(base, path);
}

function fromSpec(io: Io, file: string, options: TrainOptions, device: Parameters<typeof compileSpec>[1]["device"]): Prepared {
  const spec = loadValidSpec(io, file);
  if (spec.ir.train.length === 0) throw new UserError(`${file} has no train block: add one, e.g. train ${spec.ir.adapters[0]?.name ?? "NAME"} { data = "train.jsonl" }`);
  const compiled = compileSpec(spec, { device, ...(options.model ? { modelDir: options.model } : {}), ...(options.adapter ? { adapter: options.adapter } : {}), ...(options.steps ? { steps: options.steps } : {}) });
  printDiagnostics(io, spec.source, compiled.diagnostics);
  if (!compiled.bundle || !compiled.model || hasErrors(compiled.diagnostics)) throw new ReportedError();
  const bundle = compiled.bundle;
  return {
    bundle,
    inputs: specInputs(spec, options.model),
    graph: bundle.graph,
    wgsl: bundle.wgsl,
    settings: bundle.train!,
    peftConfigs: bundle.peftConfigs,
    model: compiled.model,
    bundleId: sha256(JSON.stringify(bundleIndex(bundle))),
    base: dirname(resolve(file)),
    keys: keysOf(bundle.plan),
    title: `${file}: ${bundle.train!.adapter}`,
  };
}

function fromBundle(dir: string, options: TrainOptions): Prepared {
  const bundle = readBundle(dir);
  if (!bundle.index.train) throw new UserError(`${dir} was compiled without a train block: it can evaluate, not train`);
  const modelDir = options.model ?? bundle.index.model.path;
  const model = loadModel(modelDir, bundle.index.model.family);
  if (model.tree.fingerprint !== bundle.index.model.fingerprint) {
    throw new UserError(`${dir} was compiled for another model: ${modelDir} has fingerprint ${model.tree.fingerprint.slice(0, 19)}..., the bundle expects ${bundle.index.model.fingerprint.slice(0, 19)}...`,
      "compile the spec again against this model");
  }
  const settings = { ...bundle.index.train, ...(options.steps ? { steps: options.steps } : {}) };
  return {
    inputs: [{ path: dir, what: "the bundle" }, { path: modelDir, what: "the model" }],
    graph: bundle.graph,
    wgsl: bundle.wgsl,
    settings,
    peftConfigs: bundle.peftConfigs,
    model,
    bundleId: sha256(readFileSync(join(dir, "bundle.json"), "utf8")),
    // Its data paths are absolute (compileSpec made them so).
    base: process.cwd(),
    keys: keysOf(bundle.plan),
    title: `${dir}: ${settings.adapter}`,
  };
}

/** Which adapter each saved key belongs to. */
function keysOf(plan: CompiledBundle["plan"]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const a of plan.adapters) for (const t of [...a.modules.flatMap((m) => m.tensors), ...a.tensors]) keys.set(t.key, a.name);
  return keys;
}
