// Applies the JSON Schemas to the lowered IR (ajv, defaults filled in) and maps
// every schema error back to the span it is about, in the language's words.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { error, type Diagnostic } from "../../grammar/diagnostics.js";
import { findMethod, hyperparametersOf } from "../methods/registry.js";
import type { HyperparameterSchema, MethodDefinition } from "../methods/types.js";
import type { Lowered } from "./lower.js";
import { modelSchema, trainSchema } from "./sections.js";
import { suggest } from "./suggest.js";
import { isPlainName } from "../selectors/glob.js";
import type { SpanTable } from "./ir.js";

export const ANNOTATIONS = ["x-peft", "x-peft-values", "x-per-target", "x-peft-pattern", "x-expects", "x-primary"];

export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true, verbose: true });
  ajv.addVocabulary(ANNOTATIONS);
  return ajv;
}

const ajv = createAjv();
const validators = new Map<string, ValidateFunction>();

function compiled(key: string, schema: () => object): ValidateFunction {
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(schema());
    validators.set(key, validate);
  }
  return validate;
}

export function hyperparameterSchema(method: MethodDefinition): object {
  return { type: "object", additionalProperties: false, properties: hyperparametersOf(method) };
}

/** The settings a target or override rule may carry: PEFT's per-module patterns. */
export function perTargetSchema(method: MethodDefinition): object {
  const properties: Record<string, object> = {};
  for (const [key, schema] of Object.entries(hyperparametersOf(method))) {
    if (schema["x-per-target"]) {
      const { default: _omitted, ...rest } = schema;
      properties[key] = rest;
    }
  }
  return { type: "object", additionalProperties: false, properties };
}

const modelIrSchema = {
  type: "object",
  additionalProperties: false,
  properties: { ...modelSchema.properties, path: { type: ["string", "null"], minLength: 1 }, name: { type: ["string", "null"], minLength: 1 } },
};

const trainIrSchema = { ...trainSchema, properties: { adapter: { type: "string" }, ...trainSchema.properties } };

export function validateLowered(lowered: Lowered): Diagnostic[] {
  const { ir, spans } = lowered;
  const diagnostics: Diagnostic[] = [];
  const check = (validate: ValidateFunction, data: unknown, base: string, where: string) => {
    if (!validate(data)) diagnostics.push(...mapErrors(validate.errors ?? [], base, where, spans));
  };

  if (ir.model) {
    const { family: _checkedWhenLowered, ...settings } = ir.model;
    check(compiled("model", () => modelIrSchema), settings, "/model", "the model block");
  }

  ir.adapters.forEach((adapter, index) => {
    const method = findMethod(adapter.method);
    if (!method) return;
    const at = `/adapters/${index}`;
    const before = diagnostics.length;
    const adapterSpan = lowered.adapterSpans[index]!;
    const nameSpan = spans.value(`${at}/name`) ?? adapterSpan;
    check(compiled(`hp:${method.name}`, () => hyperparameterSchema(method)), adapter.hyperparameters, `${at}/hyperparameters`, method.name);

    const targets = adapter.rules.filter((r) => r.action === "target");
    if (method.targets === "none") {
      adapter.rules.forEach((rule, i) => {
        diagnostics.push(error(`${method.name} attaches to the model's input and takes no '${rule.action}' rules`,
          spans.value(`${at}/rules/${i}/action`)));
      });
    } else if (method.targets === "required" && targets.length === 0) {
      diagnostics.push(error(`adapter '${adapter.name}' selects no modules: add a rule such as target "q_proj", "v_proj"`, nameSpan));
    }
    adapter.rules.forEach((rule, i) => {
      if (Object.keys(rule.set).length === 0) return;
      const validate = compiled(`pt:${method.name}`, () => perTargetSchema(method));
      if (!validate(rule.set)) {
        diagnostics.push(...mapErrors(validate.errors ?? [], `${at}/rules/${i}/set`, `a ${rule.action} rule of ${method.name}`, spans,
          (key) => perTargetHint(method, key)));
      }
    });

    const hp = adapter.hyperparameters;
    const context = {
      spanOf: (key: string) => spans.value(`${at}/hyperparameters/${key}`) ?? nameSpan,
      isSet: (key: string) => spans.hasValue(`${at}/hyperparameters/${key}`),
      targetNames: () => {
        const selectors = targets.flatMap((r) => r.selectors);
        const names = selectors.flatMap((s) => (s.kind === "glob" && isPlainName(s.pattern) ? [s.pattern] : []));
        return names.length === selectors.length ? names : undefined;
      },
    };
    if (method.targets !== "none" && hp.layers_pattern != null && Array.isArray(hp.layers) && hp.layers.length === 0) {
      diagnostics.push(error("layers_pattern needs 'layers' (the layer indices it selects)", context.spanOf("layers_pattern")));
    }
    if (diagnostics.length === before) {
      const problems = method.crossCheck?.(hp, context) ?? [];
      diagnostics.push(...problems);
      if (problems.length === 0) method.normalize?.(hp, context);
    }
  });

  ir.train.forEach((train, index) => {
    const at = `/train/${index}`;
    const before = diagnostics.length;
    check(compiled("train", () => trainIrSchema), train, at, "the train block");
    if (diagnostics.length > before) return;
    const data = train.data as { eval?: string; eval_split: number };
    if (data.eval !== undefined && data.eval_split > 0) {
      diagnostics.push(error("give either data's eval file or eval_split, not both", spans.value(`${at}/data/eval_split`)));
    }
    const schedule = train.schedule as { warmup: number };
    if (schedule.warmup > (train.steps as number)) {
      diagnostics.push(error(`warmup (${schedule.warmup} steps) is longer than training (${train.steps} steps)`,
        spans.value(`${at}/schedule/warmup`)));
    }
  });
  return diagnostics;
}

function perTargetHint(method: MethodDefinition, key: string): string {
  const perTarget = Object.entries(hyperparametersOf(method)).filter(([, s]) => s["x-per-target"]).map(([k]) => k);
  const known = key in hyperparametersOf(method);
  if (perTarget.length === 0) return `${method.name} takes no per-target settings${known ? `; set '${key}' for the whole adapter` : ""}`;
  return `${known ? `'${key}' applies to the whole adapter; ` : ""}per target, ${method.name} can set ${perTarget.join(", ")}`;
}

/** ajv's errors in the language's words, each at the span it is about. */
export function mapErrors(
  errors: ErrorObject[],
  base: string,
  where: string,
  spans: SpanTable,
  unknownKeyHint?: (key: string) => string | undefined,
): Diagnostic[] {
  // A failed anyOf reports its branches' errors too; only the anyOf's own is useful.
  const failedAnyOf = errors.filter((e) => e.keyword === "anyOf").map((e) => e.schemaPath);
  const relevant = errors.filter((e) => !failedAnyOf.some((p) => e.schemaPath !== p && e.schemaPath.startsWith(p + "/")));
  return relevant.map((e) => toDiagnostic(e, base, where, spans, unknownKeyHint));
}

function toDiagnostic(
  e: ErrorObject,
  base: string,
  where: string,
  spans: SpanTable,
  unknownKeyHint?: (key: string) => string | undefined,
): Diagnostic {
  const at = base + e.instancePath;
  const name = nameOf(e.instancePath);
  const schema = (e.parentSchema ?? {}) as HyperparameterSchema & { properties?: Record<string, HyperparameterSchema> };
  switch (e.keyword) {
    case "additionalProperties": {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys(schema.properties ?? {});
      const peftName = Object.entries(schema.properties ?? {}).find(([, s]) => s["x-peft"] === key && s["x-peft"] !== undefined)?.[0];
      const close = suggest(key, known);
      const hint = peftName && peftName !== key
        ? `'${key}' is PEFT's name for it; in a spec write '${peftName}'`
        : unknownKeyHint?.(key) ?? (close ? `did you mean '${close}'?` : known.length ? `known: ${known.join(", ")}` : undefined);
      const inside = e.instancePath ? ` in '${name}'` : "";
      return error(`unknown setting '${key}' for ${where}${inside}`,
        spans.key(`${at}/${key}`), hint);
    }
    case "required": {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return error(`${e.instancePath ? `'${name}'` : where} needs '${missing}'`, spans.value(at));
    }
    case "type":
      return error(`'${name}' must be ${typeWords((e.params as { type: string | string[] }).type)}`, spans.value(at));
    case "enum": {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const data = typeof e.data === "string" ? suggest(e.data, allowed) : undefined;
      return error(`'${name}' must be one of ${allowed.join(", ")}`, spans.value(at), data ? `did you mean '${data}'?` : undefined);
    }
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      const { comparison, limit } = e.params as { comparison: string; limit: number };
      return error(`'${name}' must be ${comparison} ${limit}, not ${String(e.data)}`, spans.value(at));
    }
    case "minLength":
      return error(`'${name}' must not be empty`, spans.value(at));
    case "anyOf":
      return error(`'${name}' must be ${schema["x-expects"] ?? "a valid value"}`, spans.value(at));
    default:
      return error(`'${name}' ${e.message ?? "is invalid"}`, spans.value(at));
  }
}

function nameOf(instancePath: string): string {
  const parts = instancePath.split("/").slice(1);
  let name = "";
  for (const part of parts) name += /^\d+$/.test(part) ? `[${part}]` : name ? `.${part}` : part;
  return name || "value";
}

function typeWords(type: string | string[]): string {
  const words: Record<string, string> = {
    integer: "an integer",
    number: "a number",
    string: "a string",
    boolean: "true or false",
    array: "a list [...]",
    object: "a { ... } block",
    null: "absent",
  };
  const list = (Array.isArray(type) ? type : type.split(",")).filter((t) => t !== "null").map((t) => words[t] ?? t);
  return list.join(" or ");
}

