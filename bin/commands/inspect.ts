import { findMethod, hyperparametersOf } from "../../compiler/methods/registry.js";
import type { AdapterIR, SelectorIR, SpanTable, SpecIR } from "../../compiler/spec/ir.js";
import type { Io } from "../io.js";
import { compactTable, renderTable } from "./table.js";
import { loadValidSpec } from "./spec.js";

export interface InspectOptions {
  json?: boolean;
}

/** What a spec asks for, before it meets a model: each adapter's settings and rules. */
export function inspect(io: Io, file: string, options: InspectOptions): number {
  const spec = loadValidSpec(io, file);
  if (options.json) {
    io.out(JSON.stringify(spec.ir, null, 2));
    return 0;
  }
  io.out(describeSpec(spec.ir, spec.spans, file));
  return 0;
}

export function describeSpec(ir: SpecIR, spans: SpanTable, file: string): string {
  const out: string[] = [file];
  if (ir.model) out.push(`model: ${ir.model.family}${ir.model.path ? ` at ${ir.model.path}` : ""}${ir.model.name ? ` (${ir.model.name})` : ""}`);
  ir.adapters.forEach((adapter, index) => out.push("", ...describeAdapter(adapter, index, spans)));
  for (const train of ir.train) {
    const optimizer = train.optimizer as { name: string; lr: number };
    const schedule = train.schedule as { name: string; warmup: number };
    const data = train.data as { path: string };
    out.push("", `train ${train.adapter}: ${String(train.steps)} steps of ${String(train.batch)}×${String(train.seq_len)} tokens`
      + ` (grad_accum ${String(train.grad_accum)}), ${optimizer.name} lr ${optimizer.lr}, ${schedule.name} schedule`
      + `${schedule.warmup ? ` after ${schedule.warmup} warmup steps` : ""}, data ${data.path}`);
  }
  return out.join("\n");
}

function describeAdapter(adapter: AdapterIR, index: number, spans: SpanTable): string[] {
  const method = findMethod(adapter.method)!;
  const schemas = hyperparametersOf(method);
  const table = compactTable(["setting", "value", "PEFT field", "from"]);
  for (const [key, value] of Object.entries(adapter.hyperparameters)) {
    const written = spans.hasValue(`/adapters/${index}/hyperparameters/${key}`);
    table.push([key, show(value), schemas[key]?.["x-peft"] ?? "-", written ? "spec" : "default"]);
  }
  const lines = [`adapter ${adapter.name}: ${method.name} (${method.title}: ${method.summary})`, renderTable(table)];
  if (adapter.rules.length > 0) {
    lines.push("rules, later ones win:");
    adapter.rules.forEach((rule, i) => {
      const settings = Object.entries(rule.set).map(([k, v]) => `${k} = ${show(v)}`).join(", ");
      lines.push(`  ${i + 1}. ${rule.action.padEnd(8)} ${rule.selectors.map(showSelector).join(", ")}${settings ? `  { ${settings} }` : ""}`);
    });
  }
  return lines;
}

function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function showSelector(selector: SelectorIR): string {
  if (selector.kind === "glob") return JSON.stringify(selector.pattern);
  if (selector.kind === "regex") return `/${selector.pattern}/`;
  return "all_linear";
}
