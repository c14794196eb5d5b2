// A spec, resolved against its model, compiled to a bundle's contents: the
// plan, the graph for its train block (or for evaluation), the kernels, and
// the PEFT configs its adapters are saved with.
import { createHash } from "node:crypto";
import { dirname, resolve as resolvePath } from "node:path";
import { hasErrors, type Diagnostic } from "../../grammar/diagnostics.js";
import type { DeviceProfile } from "../codegen/types.js";
import { UserError } from "../errors.js";
import { lowerCausalLM } from "../graph/causal-lm.js";
import type { Graph } from "../graph/types.js";
import type { LoadedModel } from "../models/load.js";
import { peftConfigText } from "../peft-config/emit.js";
import { findMethod } from "../methods/registry.js";
import { resolveSpec } from "../resolve/resolve-spec.js";
import type { Plan } from "../resolve/plan-types.js";
import type { AnalyzedSpec } from "../spec/analyze.js";
import type { SpecIR } from "../spec/ir.js";
import { trainSettings, type TrainOverrides, type TrainSettings } from "./train-settings.js";

export interface CompiledBundle {
  specText: string;
  specName: string;
  ir: SpecIR;
  plan: Plan;
  graph: Graph;
  wgsl: Map<string, string>;
  /** adapter_config.json text per adapter name. */
  peftConfigs: Record<string, string>;
  train?: TrainSettings;
  /** The model directory, absolute: --model, or the spec's path taken from the spec file's folder (as compiling read it). */
  modelPath: string;
  device: DeviceProfile;
}

export interface CompileOptions extends TrainOverrides {
  modelDir?: string;
  /** Which train block, when the spec has several. */
  adapter?: string;
  device: DeviceProfile;
  /** Sequences and length for an evaluation-only bundle (no train block). */
  evalShape?: { batch: number; seqLen: number };
}

export interface CompileResult {
  bundle?: CompiledBundle;
  model?: LoadedModel;
  diagnostics: Diagnostic[];
}

export function compileSpec(spec: AnalyzedSpec, options: CompileOptions): CompileResult {
  if (!spec.ir) throw new Error("compileSpec needs a valid spec");
  const trainBlocks = spec.ir.train;
  let train: TrainSettings | undefined;
  if (trainBlocks.length > 0) {
    const chosen = options.adapter ? trainBlocks.find((t) => t.adapter === options.adapter) : trainBlocks.length === 1 ? trainBlocks[0] : undefined;
    if (!chosen) {
      const names = trainBlocks.map((t) => t.adapter).join(", ");
      throw new UserError(options.adapter ? `no train block for adapter '${options.adapter}' (train blocks: ${names})` : `the spec has several train blocks (${names}): choose one with --adapter NAME`);
    }
    train = trainSettings(chosen, options);
    // The spec's data paths are relative to its folder (an override, to the working directory): kept absolute, so that a bundle trains from anywhere.
    const folder = dirname(resolvePath(spec.source.path));
    const data = train.data;
    const path = options.data ? resolvePath(data.path) : resolvePath(folder, data.path);
    train = { ...train, data: { ...data, path, ...(data.eval !== undefined ? { eval: resolvePath(folder, data.eval) } : {}) } };
  }
  // A train block trains its adapter: the others are not part of this run.
  const ir: SpecIR = train ? { ...spec.ir, adapters: spec.ir.adapters.filter((a) => a.name === train!.adapter) } : spec.ir;
  const resolved = resolveSpec({ ...spec, ir }, { modelDir: options.modelDir, ...(train ? { batch: train.batch, seqLen: train.seqLen } : {}) });
  if (!resolved.plan || !resolved.model || hasErrors(resolved.diagnostics)) return { diagnostics: resolved.diagnostics };
  const shape = train ? { batch: train.batch, seqLen: train.seqLen } : options.evalShape ?? { batch: 8, seqLen: 256 };
  if (shape.seqLen > resolved.model.tree.config.maxPositions) {
    throw new UserError(`seq_len ${shape.seqLen} is longer than the model's ${resolved.model.tree.config.maxPositions} positions`);
  }
  const { graph, wgsl } = lowerCausalLM({
    tree: resolved.model.tree,
    plan: resolved.plan,
    ...shape,
    device: options.device,
    ...(train ? { optimizer: { ...train.optimizer, maxGradNorm: train.maxGradNorm }, recompute: train.gradientCheckpointing, packedWeights: true } : {}),
  });
  const peftConfigs: Record<string, string> = {};
  for (const adapter of ir.adapters) {
    // Adapters PEFT has no method for (full, bitfit) are saved as weights only.
    if (!findMethod(adapter.method)?.peft) continue;
    peftConfigs[adapter.name] = peftConfigText(ir, adapter, resolved.plan.adapters.find((a) => a.name === adapter.name), resolved.model.tree.config);
  }
  return {
    bundle: {
      specText: spec.source.text,
      specName: spec.source.path,
      ir,
      plan: resolved.plan,
      graph,
      wgsl,
      peftConfigs,
      ...(train ? { train } : {}),
      modelPath: resolved.modelDir ? resolvePath(resolved.modelDir) : "",
      device: options.device,
    },
    model: resolved.model,
    diagnostics: resolved.diagnostics,
  };
}

export function sha256(text: string): string {
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}
