// Spec IR + model tree → adapter plan: every adapted module with its resolved
// settings and tensors (PEFT key, shape, init), totals counted as PEFT counts
// them, and a training memory estimate.
import { createHash } from "node:crypto";
import { error, warning, type Diagnostic, type LineIndex } from "../../grammar/diagnostics.js";
import { findMethod } from "../methods/registry.js";
import type { MethodDefinition, MethodTensor, ModuleShape } from "../methods/types.js";
import type { ModelTree, ModuleNode } from "../models/types.js";
import { MODEL_FAMILIES } from "../models/families.js";
import type { AdapterIR, SpanTable, SpecIR } from "../spec/ir.js";
import { peftLine } from "./peft-line.js";
import { PLAN_VERSION, type MemoryEstimate, type Plan, type PlanAdapter, type PlanModule, type PlanTensor } from "./plan-types.js";
import { selectModules } from "./select.js";
import { planProblems } from "./plan-schema.js";

export interface PlanOptions {
  /** For the memory estimate; the spec's train block (or 8 × 256) when absent. */
  batch?: number;
  seqLen?: number;
  spans?: SpanTable;
  lines?: LineIndex;
}

export interface PlanResult {
  plan?: Plan;
  diagnostics: Diagnostic[];
}

const BASE_PREFIX = "base_model.model.";

export function buildPlan(ir: SpecIR, tree: ModelTree, options: PlanOptions = {}): PlanResult {
  const diagnostics: Diagnostic[] = [];
  const adapters: PlanAdapter[] = [];
  ir.adapters.forEach((adapter, index) => {
    const method = findMethod(adapter.method)!;
    const planned = planAdapter(adapter, index, method, tree, options, diagnostics);
    if (planned) adapters.push(planned);
  });
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics };

  // All adapters together: each trains its own tensors; base tensors made trainable count once.
  const trainableKeys = new Map<string, number>();
  let added = 0;
  for (const adapter of adapters) {
    for (const t of allTensors(adapter)) {
      if (t.trainable) trainableKeys.set(`${adapter.name}:${t.parameter ? t.key : `base:${t.key}`}`, count(t.shape));
      if (t.parameter) added += count(t.shape);
    }
  }
  const trainable = [...trainableKeys.values()].reduce((a, b) => a + b, 0);
  const all = tree.parameterCount + added;
  const train = ir.train[0];
  const batch = options.batch ?? ((train?.batch as number | undefined) ?? 8);
  const seqLen = options.seqLen ?? ((train?.seq_len as number | undefined) ?? 256);
  const body: Omit<Plan, "fingerprint"> = {
    plan: PLAN_VERSION,
    model: {
      family: tree.family,
      modelType: tree.config.modelType,
      fingerprint: tree.fingerprint,
      parameters: tree.parameterCount,
      dtype: tree.dtype,
      layers: tree.config.layers,
      hiddenSize: tree.config.hiddenSize,
      vocabSize: tree.config.vocabSize,
    },
    adapters,
    totals: { trainable, all, peftLine: peftLine(trainable, all) },
    memory: estimateMemory(tree, adapters, batch, seqLen),
  };
  const fingerprint = `sha256:${createHash("sha256").update(JSON.stringify(body)).digest("hex")}`;
  const { plan: version, ...rest } = body;
  const plan: Plan = { plan: version, fingerprint, ...rest };
  const problems = planProblems(plan);
  if (problems.length > 0) throw new Error(`the planner made an invalid plan: ${problems.join("; ")}`);
  return { plan, diagnostics };
}

function planAdapter(
  adapter: AdapterIR,
  index: number,
  method: MethodDefinition,
  tree: ModelTree,
  options: PlanOptions,
  diagnostics: Diagnostic[],
): PlanAdapter | undefined {
  const at = `/adapters/${index}`;
  const spanOf = (pointer: string) => options.spans?.value(pointer);
  const hp = adapter.hyperparameters;
  const modules: PlanModule[] = [];
  const extra: PlanTensor[] = [];

  if (method.targets !== "none") {
    const selection = selectModules(adapter, method, tree, { adapterIndex: index, spans: options.spans, lines: options.lines });
    diagnostics.push(...selection.diagnostics);
    if (selection.diagnostics.some((d) => d.severity === "error")) return undefined;
    for (const selected of selection.modules) {
      const m = selected.module;
      const adjusted = method.adapt?.adjust?.(shapeOf(m), selected.hyperparameters);
      if (adjusted) {
        Object.assign(selected.hyperparameters, adjusted.set);
        const rule = selected.rules[0];
        diagnostics.push(warning(`${m.path}: ${adjusted.warning}`, rule !== undefined ? spanOf(`${at}/rules/${rule}`) : spanOf(`${at}/name`)));
      }
      const tensors = moduleTensors(method, m, selected.hyperparameters);
      if (typeof tensors === "string") {
        const rule = selected.rules[0];
        diagnostics.push(error(`${m.path}: ${tensors}`, rule !== undefined ? spanOf(`${at}/rules/${rule}`) : spanOf(`${at}/name`)));
        continue;
      }
      const scaling = method.adapt?.scaling?.(selected.hyperparameters);
      modules.push({
        path: m.path,
        kind: m.kind,
        role: m.role,
        layer: m.layer,
        inFeatures: m.inFeatures,
        outFeatures: m.outFeatures,
        hyperparameters: selected.hyperparameters,
        sources: selected.sources,
        ...(scaling !== undefined ? { scaling } : {}),
        tensors,
        trainable: tensors.filter((t) => t.trainable).reduce((n, t) => n + count(t.shape), 0),
      });
    }
    if (method.adapt?.shared) {
      extra.push(...method.adapt.shared(tree.modules.filter((m) => modules.some((p) => p.path === m.path)).map(shapeOf), hp).map(planTensor("")));
    }
    extra.push(...trainedBiases(method, hp, modules, tree));
  } else if (method.input) {
    const tensors = method.input.tensors(tree.config, hp);
    if (typeof tensors === "string") {
      diagnostics.push(error(tensors, spanOf(`${at}/name`)));
      return undefined;
    }
    extra.push(...tensors.map(planTensor("")));
  }

  const savedModules = (hp.modules_to_save ?? []) as string[];
  savedModules.forEach((name, i) => {
    const matches = tree.modules.filter((m) => m.path === name || m.path.endsWith(`.${name}`));
    if (matches.length === 0) {
      diagnostics.push(error(`modules_to_save names '${name}', which is no module of this model`, spanOf(`${at}/hyperparameters/modules_to_save/${i}`)));
    }
    for (const m of matches) {
      // PEFT trains a copy of the module (ModulesToSaveWrapper) and saves it under the module's own name.
      for (const [suffix, ref] of [["weight", m.weight], ...(m.bias ? [["bias", m.bias] as const] : [])] as const) {
        extra.push({ key: `${BASE_PREFIX}${m.path}.${suffix}`, shape: ref.shape, dtype: "F32", init: "a copy of the base module", trainable: true, parameter: true, saved: true });
      }
    }
  });
  if (diagnostics.some((d) => d.severity === "error")) return undefined;

  const all = [...modules.flatMap((m) => m.tensors), ...extra];
  const trainable = all.filter((t) => t.trainable).reduce((n, t) => n + count(t.shape), 0);
  const added = all.filter((t) => t.parameter).reduce((n, t) => n + count(t.shape), 0);
  return {
    name: adapter.name,
    method: method.name,
    peftType: method.peft?.peftType ?? null,
    hyperparameters: hp,
    modules,
    tensors: extra,
    trainable,
    added,
    peftLine: peftLine(trainable, tree.parameterCount + added),
  };
}

function shapeOf(m: ModuleNode): ModuleShape {
  return { path: m.path, kind: m.kind, inFeatures: m.inFeatures, outFeatures: m.outFeatures, hasBias: Boolean(m.bias) };
}

function moduleTensors(method: MethodDefinition, m: ModuleNode, hp: Record<string, unknown>): PlanTensor[] | string {
  if (!method.adapt) return `${method.name} adapts no modules`;
  const tensors = method.adapt.tensors(shapeOf(m), hp);
  if (typeof tensors === "string") return tensors;
  return tensors.map(planTensor(`${BASE_PREFIX}${m.path}.`));
}

function planTensor(prefix: string) {
  return (t: MethodTensor): PlanTensor => ({
    key: `${prefix}${t.name}`,
    shape: t.shape,
    dtype: "F32",
    init: t.init,
    trainable: t.trainable,
    parameter: t.parameter,
    saved: t.saved,
  });
}

/** bias = "all" trains every bias of the model; "<method>_only" those of adapted modules. */
function trainedBiases(method: MethodDefinition, hp: Record<string, unknown>, modules: PlanModule[], tree: ModelTree): PlanTensor[] {
  const bias = hp.bias;
  if (typeof bias !== "string" || bias === "none") return [];
  const adapted = new Set(modules.map((m) => m.path));
  const out: PlanTensor[] = [];
  for (const m of tree.modules) {
    if (!m.bias) continue;
    const isAdapted = adapted.has(m.path);
    if (bias !== "all" && !isAdapted) continue;
    // An adapted module's own layer sits under base_layer in PEFT's wrapper.
    const key = `${BASE_PREFIX}${m.path}${isAdapted && method.adapt ? ".base_layer" : ""}.bias`;
    out.push({ key, shape: m.bias.shape, dtype: "F32", init: "the base model's", trainable: true, parameter: false, saved: true });
  }
  return out;
}

function allTensors(adapter: PlanAdapter): PlanTensor[] {
  return [...adapter.modules.flatMap((m) => m.tensors), ...adapter.tensors];
}

function count(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Float32 bytes for training: the frozen base, the adapter's parameters, their
 * gradients, AdamW's two moments, and the activations kept for the backward
 * pass. Blocks below the lowest adapted one keep none (nothing below needs a
 * gradient), unless an adapter needs gradients at the input.
 */
function estimateMemory(tree: ModelTree, adapters: PlanAdapter[], batch: number, seqLen: number): MemoryEstimate {
  // A directory of bare tensors has no family: its activations are unknown (and it is only merged).
  const family = MODEL_FAMILIES.find((f) => f.name === tree.family);
  const virtualTokens = adapters.reduce((n, a) => n + (findMethod(a.method)?.input?.virtualTokens(a.hyperparameters) ?? 0), 0);
  const tokens = seqLen + virtualTokens;
  const trainable = adapters.reduce((n, a) => n + a.trainable, 0);
  const adapterParams = adapters.reduce((n, a) => n + allTensors(a).filter((t) => t.parameter || !t.trainable).reduce((s, t) => s + count(t.shape), 0), 0);
  const lowest = lowestTrainedLayer(adapters, tree);
  const layersWithActivations = lowest === undefined ? 0 : tree.config.layers - lowest;
  const { perLayer, head } = family?.activationFloats(tree.config, tokens) ?? { perLayer: 0, head: 0 };
  const activationFloats = batch * tokens * (perLayer * layersWithActivations + (trainable > 0 ? head : 0));
  const parts = {
    frozenWeights: tree.parameterCount * 4,
    adapterParameters: adapterParams * 4,
    gradients: trainable * 4,
    optimizerStates: trainable * 8,
    activations: activationFloats * 4,
  };
  return { batch, seqLen, ...parts, total: Object.values(parts).reduce((a, b) => a + b, 0), layersWithActivations };
}

/** The lowest block index a gradient must reach; 0 when it must reach the input. */
function lowestTrainedLayer(adapters: PlanAdapter[], tree: ModelTree): number | undefined {
  let lowest: number | undefined;
  const lower = (l: number) => (lowest = lowest === undefined ? l : Math.min(lowest, l));
  for (const adapter of adapters) {
    if (adapter.trainable === 0) continue;
    if (findMethod(adapter.method)?.input) lower(0);
    for (const m of adapter.modules) {
      if (m.layer !== null) lower(m.layer);
      else if (m.kind === "embedding") lower(0);
    }
    for (const t of adapter.tensors.filter((x) => x.trainable)) {
      const layer = /\.(?:layers|h)\.(\d+)\./.exec(t.key);
      if (layer) lower(Number(layer[1]));
      else if (/embed|wte|wpe/.test(t.key)) lower(0);
    }
    if (lowest === undefined) lowest = tree.config.layers;
  }
  return lowest;
}
