// The parts of specs/LANGUAGE.md that are read off the schemas, so that the
// reference cannot drift from what the compiler accepts.
import { allMethods, hyperparametersOf } from "../methods/registry.js";
import type { HyperparameterSchema } from "../methods/types.js";
import { trainSchema } from "../spec/sections.js";

export const BEGIN = "<!-- generated:begin (npm run docs) -->";
export const END = "<!-- generated:end -->";

function typeOf(schema: HyperparameterSchema): string {
  if (schema.enum) return schema.enum.map((v) => (v === null ? "null" : String(v))).join(" \\| ");
  if (schema["x-expects"]) return schema["x-expects"].replace(/\|/g, "\\|");
  const types = Array.isArray(schema.type) ? schema.type.filter((t) => t !== "null") : [schema.type ?? "any"];
  const nullable = Array.isArray(schema.type) && schema.type.includes("null") ? " (optional)" : "";
  let text = types.join(" or ");
  if (schema.type === "array") text = `list of ${((schema.items as { type?: string }) ?? {}).type ?? "values"}`;
  const bounds: string[] = [];
  if (schema.minimum !== undefined) bounds.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) bounds.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) bounds.push(`≤ ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) bounds.push(`< ${schema.exclusiveMaximum}`);
  return `${text}${bounds.length ? ` ${bounds.join(", ")}` : ""}${nullable}`;
}

function defaultOf(schema: HyperparameterSchema): string {
  if (schema.default === undefined) return "required";
  if (schema.default === null) return "from the model";
  return `\`${typeof schema.default === "string" ? schema.default : JSON.stringify(schema.default)}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function methodReference(): string {
  const out: string[] = [];
  for (const method of allMethods()) {
    out.push(`### \`${method.name}\`: ${method.title}`, "");
    out.push(`${method.summary[0]!.toUpperCase()}${method.summary.slice(1)}.`);
    out.push(
      `PEFT: ${method.peft ? `\`peft_type = "${method.peft.peftType}"\`` : "none (no PEFT config; the trained weights are saved as model weights)"}.`
      + ` Targets: ${{ required: "required", optional: "optional (a default set applies without them)", none: "none (attaches to the input)" }[method.targets]}.`
      + (method.adapt ? ` Adapts: ${method.adapt.kinds.join(", ")} layers.` : ""),
      "",
    );
    const own = Object.entries(method.hyperparameters);
    if (own.length === 0) {
      out.push("No settings of its own.", "");
      continue;
    }
    out.push("| setting | type | default | PEFT field | per target | meaning |", "|---|---|---|---|---|---|");
    for (const [key, schema] of own) {
      out.push(`| \`${key}\` | ${typeOf(schema)} | ${defaultOf(schema)} | ${schema["x-peft"] ? `\`${schema["x-peft"]}\`` : "-"} | ${schema["x-per-target"] ? `yes (\`${schema["x-peft-pattern"]}\`)` : ""} | ${cell(schema.description)} |`);
    }
    out.push("");
  }
  const lora = allMethods().find((m) => m.name === "lora")!;
  const common = Object.entries(hyperparametersOf(lora)).filter(([key]) => !(key in lora.hyperparameters));
  out.push("### Settings every adapter accepts", "", "`layers` and `layers_pattern` apply to methods with targets only.", "");
  out.push("| setting | type | default | PEFT field | meaning |", "|---|---|---|---|---|");
  for (const [key, schema] of common) {
    out.push(`| \`${key}\` | ${typeOf(schema)} | ${defaultOf(schema)} | \`${schema["x-peft"]}\` | ${cell(schema.description)} |`);
  }
  out.push("", "### The train block", "");
  out.push("| setting | type | default | meaning |", "|---|---|---|---|");
  for (const [key, schema] of Object.entries(trainSchema.properties) as [string, Record<string, unknown>][]) {
    const nested = schema.properties as Record<string, HyperparameterSchema> | undefined;
    if (nested) {
      out.push(`| \`${key} = ${schema["x-primary"] === "path" ? '"file"' : "name"} { ... }\` | block | | ${cell(String(schema.description))} |`);
      for (const [inner, s] of Object.entries(nested)) {
        out.push(`| \`${key}.${inner}\` | ${typeOf(s)} | ${s.default === undefined ? (key === "data" && inner === "path" ? "required" : "-") : defaultOf(s)} | ${cell(s.description)} |`);
      }
    } else {
      const s = schema as unknown as HyperparameterSchema;
      out.push(`| \`${key}\` | ${typeOf(s)} | ${defaultOf(s)} | ${cell(s.description)} |`);
    }
  }
  return out.join("\n");
}

/** LANGUAGE.md with its generated section replaced. */
export function updateReference(markdown: string): string {
  const begin = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`LANGUAGE.md lacks the ${BEGIN} ... ${END} markers`);
  return `${markdown.slice(0, begin + BEGIN.length)}\n\n${methodReference()}\n\n${markdown.slice(end)}`;
}
