// `peftc inspect --explain MODULE`: for one module, every rule of every
// adapter that matches it, and where each of its settings came from.
import type { LineIndex } from "../../grammar/diagnostics.js";
import { formatSelector } from "../../grammar/format.js";
import { UserError } from "../errors.js";
import type { ModelTree, ModuleNode } from "../models/types.js";
import type { Plan } from "../resolve/plan-types.js";
import { selectorMatcher, type Source } from "../resolve/select.js";
import type { RuleIR, SelectorIR, SpanTable, SpecIR } from "../spec/ir.js";
import { shape, shortTensorName } from "./format.js";
import { distance } from "fastest-levenshtein";

export function findModule(tree: ModelTree, name: string): ModuleNode {
  const exact = tree.modules.find((m) => m.path === name);
  if (exact) return exact;
  const bySuffix = tree.modules.filter((m) => m.path.endsWith(`.${name}`));
  if (bySuffix.length === 1) return bySuffix[0]!;
  if (bySuffix.length > 1) {
    throw new UserError(`'${name}' names ${bySuffix.length} modules; give more of the path`, `for example ${bySuffix.slice(0, 3).map((m) => m.path).join(", ")}`);
  }
  const closest = [...tree.modules].sort((a, b) => distance(name, a.path) - distance(name, b.path)).slice(0, 3).map((m) => m.path);
  throw new UserError(`no module '${name}' in this model`, `closest: ${closest.join(", ")}`);
}

function selectorText(s: SelectorIR): string {
  if (s.kind === "glob") return formatSelector({ kind: "glob", pattern: s.pattern, span: { start: 0, end: 0 } });
  if (s.kind === "regex") return formatSelector({ kind: "regex", source: s.pattern, span: { start: 0, end: 0 } });
  return "all_linear";
}

function ruleText(rule: RuleIR): string {
  const settings = Object.entries(rule.set).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join("  ");
  return `${rule.action} ${rule.selectors.map(selectorText).join(", ")}${settings ? ` { ${settings} }` : ""}`;
}

function sourceText(source: Source | undefined): string {
  if (!source || source.from === "default") return "default";
  if (source.from === "adapter") return `adapter${source.line ? ` (line ${source.line})` : ""}`;
  return `rule ${source.rule + 1}${source.line ? ` (line ${source.line})` : ""}`;
}

export function explainModule(ir: SpecIR, plan: Plan, tree: ModelTree, name: string, spans?: SpanTable, lines?: LineIndex): string[] {
  const module = findModule(tree, name);
  const out = [
    `${module.path}: ${module.kind} ${module.inFeatures} → ${module.outFeatures}${module.layer !== null ? `, block ${module.layer}` : ""} (role ${module.role})${module.tiedTo ? `, tied to ${module.tiedTo}` : ""}`,
  ];
  ir.adapters.forEach((adapter, a) => {
    const planned = plan.adapters.find((p) => p.name === adapter.name);
    const entry = planned?.modules.find((m) => m.path === module.path);
    const matching = adapter.rules.flatMap((rule, r) => (rule.selectors.some((s) => selectorMatcher(s)(module)) ? [r] : []));
    out.push("", `adapter ${adapter.name} (${adapter.method}): ${entry ? "adapts it" : matching.length ? "does not adapt it" : "no rule matches it"}`);
    for (const r of matching) {
      const span = spans?.value(`/adapters/${a}/rules/${r}`);
      const line = span && lines ? ` (line ${lines.position(span.start).line})` : "";
      out.push(`  rule ${r + 1}${line}: ${ruleText(adapter.rules[r]!)}`);
    }
    if (!entry) return;
    const keys = Object.keys(entry.hyperparameters);
    const width = Math.max(...keys.map((k) => k.length));
    out.push("  settings:");
    for (const key of keys) {
      out.push(`    ${key.padEnd(width)}  ${JSON.stringify(entry.hyperparameters[key]).padEnd(12)}  ${sourceText(entry.sources[key])}`);
    }
    if (entry.scaling !== undefined) out.push(`  scaling: ${entry.scaling}`);
    out.push("  tensors:");
    for (const t of entry.tensors) out.push(`    ${shortTensorName(t.key, module.path)} ${shape(t.shape)}${t.trainable ? "" : " (frozen)"}: ${t.init}`);
  });
  return out;
}
