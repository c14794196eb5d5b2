// A spec's adapter as Hugging Face PEFT's adapter_config.json fields.
import { UserError } from "../errors.js";
import { findMethod, hyperparametersOf } from "../methods/registry.js";
import type { MethodDefinition } from "../methods/types.js";
import type { ArchitectureConfig } from "../models/types.js";
import type { PlanAdapter } from "../resolve/plan-types.js";
import type { AdapterIR, SpecIR } from "../spec/ir.js";
import { pythonJson } from "./json.js";
import { selectorsToPeftModules, selectorToPatternKey } from "./selectors.js";

/** Values this peftc writes where PEFT's saved configs carry a run-time value. */
const SAVED = { inference_mode: true } as const;

/**
 * The config as PEFT writes the file (sorted keys, Python floats, no final newline).
 * `planned` (the adapter resolved on its model) gives what the spec alone cannot:
 * the module paths, for target rules PEFT's fields cannot express (such as
 * all_linear plus lm_head), and whether a target is a Conv1D (GPT-2), for which
 * PEFT sets fan_in_fan_out itself.
 */
export function peftConfigText(ir: SpecIR, adapter: AdapterIR, planned?: PlanAdapter, model?: ArchitectureConfig): string {
  const fields = emitPeftConfig(ir, adapter, planned);
  if (model && findMethod(adapter.method)?.input) fillFromModel(fields, model);
  return peftJson(findMethod(adapter.method), fields);
}

/**
 * What PEFT's prompt-learning configs take from the model when unset
 * (_prepare_prompt_learning_config), filled as PEFT saves them: a trained
 * adapter's config says the shapes it was made for.
 */
function fillFromModel(fields: Record<string, unknown>, model: ArchitectureConfig): void {
  const fill = (key: string, value: number) => {
    if (key in fields && (fields[key] === null || fields[key] === undefined)) fields[key] = value;
  };
  fill("num_layers", model.layers);
  fill("token_dim", model.hiddenSize);
  fill("num_attention_heads", model.heads);
  // Decoder-only models: one stack the virtual tokens enter.
  fill("num_transformer_submodules", 1);
}

/** Config fields as PEFT writes them: its float fields as Python floats (1.0, not 1). */
export function peftJson(method: MethodDefinition | undefined, fields: Record<string, unknown>): string {
  return pythonJson(fields, new Set(method?.peft?.floatFields ?? []));
}

function emitPeftConfig(ir: SpecIR, adapter: AdapterIR, planned?: PlanAdapter): Record<string, unknown> {
  const method = findMethod(adapter.method);
  if (!method) throw new Error(`unknown method ${adapter.method}`);
  const codec = method.peft;
  if (!codec) {
    throw new UserError(`${method.title} has no Hugging Face PEFT config: PEFT has no such method`,
      "its trained weights are saved as a model checkpoint instead");
  }
  const fields: Record<string, unknown> = structuredClone(codec.defaults);
  fields.peft_type = codec.peftType;
  fields.inference_mode = SAVED.inference_mode;
  fields.base_model_name_or_path = ir.model?.name ?? ir.model?.path ?? null;

  const schemas = hyperparametersOf(method);
  for (const [key, value] of Object.entries(adapter.hyperparameters)) {
    const schema = schemas[key];
    const peftName = schema?.["x-peft"];
    if (!schema || !peftName) continue;
    if (!(peftName in fields)) {
      // PEFT's config for this method lacks the field: fine while ours is at its default.
      if (JSON.stringify(value) === JSON.stringify(schema.default)) continue;
      throw new UserError(`adapter '${adapter.name}': PEFT's ${method.title} config has no ${peftName} for '${key}'`,
        key === "layers" ? "select the layers in the target globs instead, e.g. \"layers.[0..3].q_proj\"" : undefined);
    }
    fields[peftName] = toPeftValue(key, value, schema["x-peft-values"], method);
  }
  // PEFT writes null, not an empty list, for "none given".
  for (const field of ["layers_to_transform", "modules_to_save"]) {
    if (Array.isArray(fields[field]) && (fields[field] as unknown[]).length === 0) fields[field] = null;
  }
  if (method.targets !== "none") emitRules(adapter, method, fields, planned?.modules.map((m) => m.path));
  codec.encode?.(adapter.hyperparameters, fields);
  if ("fan_in_fan_out" in fields && planned?.modules.some((m) => m.kind === "conv1d")) fields.fan_in_fan_out = true;
  return fields;
}

function toPeftValue(key: string, value: unknown, values: Record<string, unknown> | undefined, method: MethodDefinition): unknown {
  if (!values) return value;
  const mapped = values[String(value)];
  if (mapped === undefined) throw new Error(`${method.name}.${key}: no PEFT value for ${String(value)}`);
  return mapped;
}

function emitRules(adapter: AdapterIR, method: MethodDefinition, fields: Record<string, unknown>, resolved: string[] | undefined): void {
  const targets = adapter.rules.filter((r) => r.action === "target");
  const excludes = adapter.rules.filter((r) => r.action === "exclude");
  const actions = adapter.rules.map((r) => r.action);
  const firstExclude = actions.indexOf("exclude");
  const targetAfterExclude = firstExclude >= 0 && actions.lastIndexOf("target") > firstExclude;
  const selected = selectorsToPeftModules(targets.flatMap((r) => r.selectors));
  const excluded = selectorsToPeftModules(excludes.flatMap((r) => r.selectors));
  const inexpressible = targetAfterExclude || "problem" in selected || (excludes.length > 0 && "problem" in excluded);
  if (inexpressible && resolved && "target_modules" in fields) {
    // The selection as the exact module paths it gives on this model: PEFT matches a
    // list entry equal to a module's full name, so this selects the same modules.
    fields.target_modules = [...resolved].sort();
    if ("layers_to_transform" in fields) fields.layers_to_transform = null;
  } else {
    if (targetAfterExclude) {
      throw new UserError(`adapter '${adapter.name}': a target rule after an exclude rule cannot be written as a PEFT config,`
        + " where exclusions apply last", "move the exclude rules after the target rules");
    }
    emitSelection(adapter, method, fields, targets.length, selected, excludes.length, excluded);
  }
  emitPatterns(adapter, method, fields);
}

function emitSelection(adapter: AdapterIR, method: MethodDefinition, fields: Record<string, unknown>,
  targetCount: number, selected: ReturnType<typeof selectorsToPeftModules>, excludeCount: number, excluded: ReturnType<typeof selectorsToPeftModules>): void {
  if (targetCount > 0 || "target_modules" in fields) {
    if ("problem" in selected) throw new UserError(`adapter '${adapter.name}': ${selected.problem}`);
    fields.target_modules = targetCount === 0 ? fields.target_modules ?? null : selected.value;
  }
  if (excludeCount > 0) {
    if (!("exclude_modules" in fields)) {
      throw new UserError(`adapter '${adapter.name}': PEFT's ${method.title} config has no exclude_modules`,
        "narrow the target selectors instead");
    }
    if ("problem" in excluded) throw new UserError(`adapter '${adapter.name}': ${excluded.problem}`);
    fields.exclude_modules = excluded.value;
  }
}

function emitPatterns(adapter: AdapterIR, method: MethodDefinition, fields: Record<string, unknown>): void {
  // Our later rules win; PEFT's patterns are tried in order and the first match
  // wins: so the patterns are written from the last rule to the first.
  const schemas = hyperparametersOf(method);
  for (const rule of [...adapter.rules].reverse()) {
    for (const [key, value] of Object.entries(rule.set)) {
      const patternField = schemas[key]?.["x-peft-pattern"];
      if (!patternField) {
        throw new UserError(`adapter '${adapter.name}': per-target '${key}' has no PEFT equivalent`);
      }
      const patterns = (fields[patternField] ??= {}) as Record<string, unknown>;
      for (const selector of rule.selectors) {
        const patternKey = selectorToPatternKey(selector);
        if (!(patternKey in patterns)) patterns[patternKey] = value;
      }
    }
  }
}
