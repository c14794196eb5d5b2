// What `peftc diff` compares: a spec, a bundle (a directory with plan.json) or
// a PEFT adapter directory, each reduced to adapters, their settings and the
// modules they adapt with their trainable parameter counts.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { hasErrors } from "../../grammar/diagnostics.js";
import { SafetensorsFile, elementCount } from "../../runtime/files/safetensors.js";
import { UserError } from "../errors.js";
import { importPeftConfig } from "../peft-config/import.js";
import { adapterFiles } from "../peft-config/load-adapter.js";
import { resolveSpec } from "../resolve/resolve-spec.js";
import type { Plan } from "../resolve/plan-types.js";
import { planProblems } from "../resolve/plan-schema.js";
import { analyzeSpec, readSpecSource, type AnalyzedSpec } from "../spec/analyze.js";
import type { Hyperparameters } from "../methods/types.js";
import { loadModel } from "../models/load.js";
import { buildPlan } from "../resolve/plan.js";

export interface ComparableModule {
  hyperparameters: Hyperparameters;
  trainable: number;
}

export interface ComparableAdapter {
  name: string;
  method: string;
  hyperparameters: Hyperparameters;
  /** Undefined when the side's modules are not known (a spec without a model). */
  modules?: Map<string, ComparableModule>;
  trainable?: number;
}

export interface Comparable {
  label: string;
  kind: "spec" | "bundle" | "peft-adapter";
  adapters: ComparableAdapter[];
  warnings: string[];
}

export function loadComparable(path: string, modelDir?: string): Comparable {
  if (!existsSync(path)) throw new UserError(`${path}: no such file or directory`);
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, "plan.json"))) return fromPlan(path, readPlan(join(path, "plan.json")));
    if (existsSync(join(path, "adapter_config.json"))) return fromPeftDir(path, modelDir);
    throw new UserError(`${path} is neither a bundle (no plan.json) nor a PEFT adapter directory (no adapter_config.json)`);
  }
  return fromSpec(path, modelDir);
}

function readPlan(path: string): Plan {
  let plan: unknown;
  try {
    plan = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const problems = planProblems(plan);
  if (problems.length > 0) throw new UserError(`${path} is not a peftc plan: ${problems.slice(0, 3).join("; ")}`);
  return plan as Plan;
}

function fromPlan(label: string, plan: Plan, kind: Comparable["kind"] = "bundle"): Comparable {
  return {
    label,
    kind,
    warnings: [],
    adapters: plan.adapters.map((a) => ({
      name: a.name,
      method: a.method,
      hyperparameters: a.hyperparameters,
      trainable: a.trainable,
      modules: new Map([
        ...a.modules.map((m) => [m.path, { hyperparameters: m.hyperparameters, trainable: m.trainable }] as const),
        ...a.tensors.filter((t) => t.trainable).map((t) => [t.key.replace(/^base_model\.model\./, ""), { hyperparameters: {}, trainable: t.shape.reduce((x, y) => x * y, 1) }] as const),
      ]),
    })),
  };
}

function fromSpec(path: string, modelDir?: string): Comparable {
  const spec = analyzeSpec(readSpecSource(path));
  if (!spec.ir) throw new UserError(`${path} has errors: run peftc check ${path}`);
  const resolvedDir = modelDir ?? spec.ir.model?.path;
  if (resolvedDir) {
    const resolved = resolveSpec(spec, { modelDir });
    if (resolved.plan && !hasErrors(resolved.diagnostics)) return { ...fromPlan(path, resolved.plan, "spec"), kind: "spec" };
    throw new UserError(`${path} does not resolve against ${resolved.modelDir}: run peftc inspect ${path}`);
  }
  return specOnly(path, spec);
}

function specOnly(label: string, spec: AnalyzedSpec): Comparable {
  return {
    label,
    kind: "spec",
    warnings: [],
    adapters: spec.ir!.adapters.map((a) => ({ name: a.name, method: a.method, hyperparameters: a.hyperparameters })),
  };
}

function fromPeftDir(dir: string, modelDir?: string): Comparable {
  const adapters: ComparableAdapter[] = [];
  const warnings: string[] = [];
  // One model for every folder: loading reads the checkpoint's headers and fingerprints it.
  const tree = modelDir ? loadModel(modelDir).tree : undefined;
  for (const { name, dir: folder, configText, weights } of adapterFiles(dir, false)) {
    const configPath = join(folder, "adapter_config.json");
    const imported = importPeftConfig(configText, configPath, name);
    warnings.push(...imported.warnings);
    const spec = analyzeSpec({ path: configPath, text: imported.spec });
    if (!spec.ir) throw new UserError(`${configPath} cannot be read as a spec: ${spec.diagnostics.map((d) => d.message).join("; ")}`);
    const adapter = spec.ir.adapters[0]!;
    if (tree) {
      const result = buildPlan(spec.ir, tree);
      if (!result.plan) throw new UserError(`${configPath} does not resolve against ${modelDir}: ${result.diagnostics.map((d) => d.message).join("; ")}`);
      adapters.push(fromPlan(dir, result.plan).adapters[0]!);
      continue;
    }
    adapters.push({ name, method: adapter.method, hyperparameters: adapter.hyperparameters, ...modulesFromWeights(weights) });
  }
  return { label: dir, kind: "peft-adapter", adapters, warnings };
}

/** Adapted modules read off adapter_model.safetensors: each key is base_model.model.<module>.<tensor>. */
function modulesFromWeights(file: SafetensorsFile | undefined): Pick<ComparableAdapter, "modules" | "trainable"> {
  if (!file) return {};
  const modules = new Map<string, ComparableModule>();
  let trainable = 0;
  for (const info of file.tensors.values()) {
    // VeRA's shared projections are frozen buffers, not trained parameters.
    if (info.name.startsWith("base_model.vera_")) continue;
    const module = moduleOfKey(info.name);
    const n = elementCount(info.shape);
    trainable += n;
    const entry = modules.get(module) ?? { hyperparameters: {}, trainable: 0 };
    entry.trainable += n;
    modules.set(module, entry);
  }
  return { modules, trainable };
}

// The first segment of a key that is an adapter's own tensor starts with one of these.
const ADAPTER_TENSOR = /^(lora_|hada_|lokr_|oft_|boft_|ia3_|vera_|ln_tuning_|adaption_)/;

/** The module a saved key belongs to: base_model.model.<module>.<tensor>. */
export function moduleOfKey(key: string): string {
  const segments = key.replace(/^base_model\.model\./, "").split(".");
  const at = segments.findIndex((s) => ADAPTER_TENSOR.test(s));
  if (at > 0) return segments.slice(0, at).join(".");
  // A trained base tensor: <module>.weight, <module>.bias or <module>.base_layer.bias.
  const end = segments[segments.length - 2] === "base_layer" ? -2 : -1;
  return segments.slice(0, end).join(".");
}
