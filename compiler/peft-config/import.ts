// A Hugging Face PEFT adapter_config.json as a .peft spec. Fields peftc does not
// model are reported as warnings and ignored, as PEFT itself does with unknown
// fields; everything it does model comes back unchanged from --emit peft-config.
import type { Assignment, BlockItem, ModelDecl, AdapterDecl } from "../../grammar/ast.js";
import { adapterDecl, assignment, modelDecl, rule, specFile, valueOf } from "../../grammar/construct.js";
import { format } from "../../grammar/format.js";
import { UserError } from "../errors.js";
import { allMethods, hyperparametersOf } from "../methods/registry.js";
import type { HyperparameterSchema, Hyperparameters } from "../methods/types.js";
import type { SelectorIR } from "../spec/ir.js";
import { patternKeyToSelector, peftModulesToSelectors } from "./selectors.js";

export interface ImportResult {
  spec: string;
  method: string;
  warnings: string[];
}

/** Fields every PEFT config has, handled here rather than by a method. */
const BASE_FIELDS = new Set([
  "peft_type",
  "task_type",
  "base_model_name_or_path",
  "revision",
  "inference_mode",
  "auto_mapping",
  "peft_version",
]);

/** Fields that carry the module selection, read into rules. */
const SELECTION_FIELDS = new Set(["target_modules", "exclude_modules", "layers_to_transform", "layers_pattern", "modules_to_save"]);

export function importPeftConfig(text: string, path: string, adapterName = "default"): ImportResult {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!config || typeof config !== "object" || Array.isArray(config)) {
    throw new UserError(`${path} is not a PEFT adapter config: expected a JSON object`);
  }
  const fields = config as Record<string, unknown>;
  const peftType = fields.peft_type;
  const methods = allMethods().filter((m) => m.peft);
  const method = methods.find((m) => m.peft!.peftType === peftType);
  if (!method) {
    throw new UserError(`${path}: peft_type ${JSON.stringify(peftType ?? null)} is not one peftc reads`,
      `supported: ${methods.map((m) => m.peft!.peftType).join(", ")}`);
  }
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(`${path}: ${message}`);
  const schemas = hyperparametersOf(method);
  const hp: Hyperparameters = {};
  const patternFields = Object.values(schemas).map((s) => s["x-peft-pattern"]).filter((f): f is string => f !== undefined);
  const consumed = new Set<string>([...BASE_FIELDS, ...SELECTION_FIELDS, ...patternFields, ...(method.peft!.handles ?? [])]);

  for (const [key, schema] of Object.entries(schemas)) {
    const peftName = schema["x-peft"];
    if (!peftName || !(peftName in fields)) continue;
    // Selections of targeting methods become rules; a prompt method's are plain settings.
    if (SELECTION_FIELDS.has(peftName) && method.targets !== "none") continue;
    consumed.add(peftName);
    // PEFT writes null where our list is empty.
    const value = fields[peftName] === null && Array.isArray(schema.default) ? schema.default : fromPeftValue(fields[peftName], schema);
    if (value === undefined) {
      warn(`${peftName} = ${JSON.stringify(fields[peftName])} is not supported by peftc; the default is used`);
    } else if (!sameValue(value, schema.default)) {
      hp[key] = value;
    }
  }
  method.peft!.decode?.(fields, hp, warn);
  for (const key of Object.keys(method.peft!.defaults)) {
    if (consumed.has(key) || !(key in fields)) continue;
    if (!sameValue(fields[key], method.peft!.defaults[key])) {
      warn(`${key} = ${JSON.stringify(fields[key])} is not supported by peftc and was ignored`);
    }
  }
  for (const key of Object.keys(fields)) {
    if (!consumed.has(key) && !(key in method.peft!.defaults)) warn(`unknown field '${key}' was ignored`);
  }
  if (fields.revision !== null && fields.revision !== undefined) warn(`revision ${JSON.stringify(fields.revision)} was ignored`);
  if (Array.isArray(fields.modules_to_save) && fields.modules_to_save.length > 0) hp.modules_to_save = fields.modules_to_save;
  // PEFT applies layers_to_transform to list targets only: a regex target_modules matches full names and ignores it.
  const regexTargets = typeof fields.target_modules === "string";
  const givenLayers = typeof fields.layers_to_transform === "number" || (Array.isArray(fields.layers_to_transform) && fields.layers_to_transform.length > 0);
  if (regexTargets && givenLayers) warn("layers_to_transform was ignored: PEFT ignores it when target_modules is a regex");
  if ("layers" in schemas && !regexTargets) {
    const layers = fields.layers_to_transform;
    if (typeof layers === "number") hp.layers = [layers];
    else if (Array.isArray(layers) && layers.length > 0) hp.layers = layers;
    if (typeof fields.layers_pattern === "string") hp.layers_pattern = fields.layers_pattern;
    else if (Array.isArray(fields.layers_pattern) && fields.layers_pattern.length > 0) {
      hp.layers_pattern = String(fields.layers_pattern[0]);
      if (fields.layers_pattern.length > 1) warn("layers_pattern lists several names; peftc uses the first");
    }
  }

  const items: BlockItem[] = Object.entries(hp).map(([key, value]) => assignment(key, valueOf(value, schemas[key]?.type === "integer" || isIntegerList(schemas[key]))));
  if (method.targets !== "none") items.push(...selectionRules(fields, schemas));
  const top: (ModelDecl | AdapterDecl)[] = [];
  if (typeof fields.base_model_name_or_path === "string" && fields.base_model_name_or_path.length > 0) {
    top.push(modelDecl("auto", [assignment("name", valueOf(fields.base_model_name_or_path))]));
  }
  top.push(adapterDecl(adapterName, method.name, items));
  return { spec: format(specFile(top)), method: method.name, warnings };
}

function isIntegerList(schema: HyperparameterSchema | undefined): boolean {
  return schema?.type === "array" && (schema.items as { type?: string } | undefined)?.type === "integer";
}

function selectionRules(fields: Record<string, unknown>, schemas: Record<string, HyperparameterSchema>): BlockItem[] {
  const rules: BlockItem[] = [];
  const targets = peftModulesToSelectors(fields.target_modules);
  if (targets.length > 0) rules.push(rule("target", targets.map(toSelector)));
  const excludes = peftModulesToSelectors(fields.exclude_modules);
  if (excludes.length > 0) rules.push(rule("exclude", excludes.map(toSelector)));
  for (const [key, schema] of Object.entries(schemas)) {
    const field = schema["x-peft-pattern"];
    if (!field) continue;
    const patterns = fields[field];
    if (patterns === null || patterns === undefined) continue;
    if (typeof patterns !== "object" || Array.isArray(patterns)) {
      throw new UserError(`${field} must be a JSON object of pattern: value`);
    }
    // PEFT tries patterns in order, first match wins; our later rules win. So the
    // override rules are written in reverse.
    for (const [patternKey, value] of Object.entries(patterns).reverse()) {
      const settings: Assignment[] = [assignment(key, valueOf(value, schema.type === "integer"))];
      rules.push(rule("override", [toSelector(patternKeyToSelector(patternKey))], settings));
    }
  }
  return rules;
}

function toSelector(selector: SelectorIR) {
  const span = { start: 0, end: 0 };
  switch (selector.kind) {
    case "glob":
      return { kind: "glob" as const, pattern: selector.pattern, span };
    case "regex":
      return { kind: "regex" as const, source: selector.pattern, span };
    case "all_linear":
      return { kind: "all_linear" as const, span };
  }
}

/** PEFT's value as ours, through the schema's value map; undefined when ours has no such value. */
function fromPeftValue(value: unknown, schema: HyperparameterSchema): unknown {
  const map = schema["x-peft-values"];
  if (!map) return value;
  const found = Object.entries(map).find(([, peftValue]) => sameValue(peftValue, value));
  return found?.[0];
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
