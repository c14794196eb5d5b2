import { hasErrors, LineIndex } from "../../grammar/diagnostics.js";
import { UserError } from "../../compiler/errors.js";
import { findMethod, hyperparametersOf } from "../../compiler/methods/registry.js";
import { explainModule } from "../../compiler/report/explain.js";
import { thousands } from "../../compiler/report/format.js";
import { heatmapSvg } from "../../compiler/report/heatmap.js";
import { memoryLines, modelLine, moduleTable } from "../../compiler/report/plan-report.js";
import { modelDirOf, resolveSpec } from "../../compiler/resolve/resolve-spec.js";
import type { AdapterIR, SelectorIR, SpanTable, SpecIR } from "../../compiler/spec/ir.js";
import { writeFileAtomic } from "../../runtime/files/atomic.js";
import type { Io } from "../io.js";
import { printDiagnostics } from "./report.js";
import { loadValidSpec, ReportedError, specInputs } from "./spec.js";
import { claimFileOutput, fileSignature } from "../../runtime/files/outputs.js";
import { compactTable, renderTable } from "./table.js";

export interface InspectOptions {
  json?: boolean;
  model?: string;
  explain?: string;
  svg?: string;
  batch?: number;
  seqLen?: number;
}

/**
 * A spec's adapter plan against its model: modules, ranks, tensors, counts,
 * PEFT's line and the memory estimate. Without a model it shows the spec alone.
 */
export function inspect(io: Io, file: string, options: InspectOptions): number {
  const spec = loadValidSpec(io, file);
  if (!modelDirOf(spec, options.model)) {
    if (options.explain || options.svg) throw new UserError("--explain and --svg need a model: add a model path to the spec or pass --model DIR");
    io.out(options.json ? JSON.stringify(spec.ir, null, 2) : describeSpec(spec.ir, spec.spans, file));
    return 0;
  }
  const resolved = resolveSpec(spec, { modelDir: options.model, batch: options.batch, seqLen: options.seqLen });
  printDiagnostics(io, spec.source, resolved.diagnostics);
  if (hasErrors(resolved.diagnostics) || !resolved.plan || !resolved.model) throw new ReportedError();
  const { plan, model } = resolved;
  if (options.svg) {
    const svg = claimFileOutput(options.svg, "svg", [...specInputs(spec, options.model)], "--svg");
    writeFileAtomic(svg, `${fileSignature("svg")}\n${heatmapSvg(plan, model.tree, `${file} on ${resolved.modelDir}`)}`);
    io.err(`wrote ${svg}`);
  }
  if (options.explain) {
    io.out(explainModule(spec.ir, plan, model.tree, options.explain, spec.spans, new LineIndex(spec.source.text)).join("\n"));
    return 0;
  }
  if (options.json) {
    io.out(JSON.stringify(plan, null, 2));
    return 0;
  }
  const out: string[] = [modelLine(plan, resolved.modelDir!)];
  for (const adapter of plan.adapters) {
    const table = moduleTable(adapter);
    const rendered = compactTable(table.head, table.align);
    for (const row of table.rows) rendered.push(row);
    out.push("", `adapter ${adapter.name}: ${adapter.method}, ${adapter.modules.length} module${adapter.modules.length === 1 ? "" : "s"}, ${thousands(adapter.trainable)} trainable`);
    out.push(renderTable(rendered), adapter.peftLine);
  }
  if (plan.adapters.length > 1) out.push("", `all adapters: ${plan.totals.peftLine}`);
  out.push("", ...memoryLines(plan));
  io.out(out.join("\n"));
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
