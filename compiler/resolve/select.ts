// Applies an adapter's rules to a model's module tree: which modules it
// adapts, and with which settings, each traced to the rule or line that set it.
import type { Span } from "../../grammar/ast.js";
import { error, warning, type Diagnostic, type LineIndex } from "../../grammar/diagnostics.js";
import type { Hyperparameters, MethodDefinition } from "../methods/types.js";
import type { ModelTree, ModuleNode } from "../models/types.js";
import { compileGlob, globToPathRegex } from "../selectors/glob.js";
import { compileFullMatch } from "../selectors/regex.js";
import type { AdapterIR, SelectorIR, SpanTable } from "../spec/ir.js";
import { distance } from "fastest-levenshtein";

/** Where a module's setting came from. */
export type Source =
  | { from: "default" }
  | { from: "adapter"; line?: number }
  | { from: "rule"; rule: number; line?: number };

export interface SelectedModule {
  module: ModuleNode;
  hyperparameters: Hyperparameters;
  sources: Record<string, Source>;
  /** Indices of the rules that matched the module, in order. */
  rules: number[];
}

export interface Selection {
  modules: SelectedModule[];
  diagnostics: Diagnostic[];
}

interface Context {
  adapterIndex: number;
  spans?: SpanTable;
  lines?: LineIndex;
}

/** A selector as a test on module nodes. */
export function selectorMatcher(selector: SelectorIR): (m: ModuleNode) => boolean {
  switch (selector.kind) {
    case "all_linear":
      // PEFT's all-linear: every Linear and Conv1D except the output embedding.
      return (m) => (m.kind === "linear" || m.kind === "conv1d") && !m.outputEmbedding;
    case "glob": {
      const compiled = compileGlob(selector.pattern);
      if (!compiled.ok) throw new Error(`invalid glob reached the resolver: ${selector.pattern}`);
      const regex = globToPathRegex(compiled.regex);
      return (m) => regex.test(m.path);
    }
    case "regex": {
      const compiled = compileFullMatch(selector.pattern);
      if (!compiled.ok) throw new Error(`invalid regex reached the resolver: ${selector.pattern}`);
      return (m) => compiled.regex.test(m.path);
    }
  }
}

/**
 * PEFT's layers_to_transform test (0.21): the layer index is the first number
 * segment after a named segment, or the one after `layers_pattern`.
 */
export function layerIndexOf(path: string, layersPattern: string | null): number | undefined {
  const match = layersPattern
    ? new RegExp(`^(?:|.*?\\.)${layersPattern}\\.(\\d+)\\.`).exec(path)
    : /^.*?\.[^.]*\.(\d+)\./.exec(path);
  return match ? Number(match[1]) : undefined;
}

export function selectModules(adapter: AdapterIR, method: MethodDefinition, tree: ModelTree, context: Context): Selection {
  const diagnostics: Diagnostic[] = [];
  const at = `/adapters/${context.adapterIndex}`;
  const lineOf = (pointer: string): number | undefined => {
    const span = context.spans?.value(pointer);
    return span && context.lines ? context.lines.position(span.start).line : undefined;
  };
  const spanOf = (pointer: string): Span | undefined => context.spans?.value(pointer);

  const baseSources: Record<string, Source> = {};
  for (const key of Object.keys(adapter.hyperparameters)) {
    baseSources[key] = context.spans?.hasValue(`${at}/hyperparameters/${key}`)
      ? { from: "adapter", line: lineOf(`${at}/hyperparameters/${key}`) }
      : { from: "default" };
  }
  const layers = (adapter.hyperparameters.layers ?? []) as number[];
  const layersPattern = (adapter.hyperparameters.layers_pattern ?? null) as string | null;
  const inLayers = (m: ModuleNode) => {
    if (layers.length === 0) return true;
    const index = layerIndexOf(m.path, layersPattern);
    return index !== undefined && layers.includes(index);
  };

  const selected = new Map<string, SelectedModule>();
  const select = (m: ModuleNode): SelectedModule => {
    let entry = selected.get(m.path);
    if (!entry) {
      entry = { module: m, hyperparameters: { ...adapter.hyperparameters }, sources: { ...baseSources }, rules: [] };
      selected.set(m.path, entry);
    }
    return entry;
  };

  adapter.rules.forEach((rule, r) => {
    const matched = new Set<ModuleNode>();
    rule.selectors.forEach((selector, s) => {
      const test = selectorMatcher(selector);
      const hits = tree.modules.filter(test);
      if (hits.length === 0) {
        diagnostics.push(error(`${describe(selector)} matches no module of this ${tree.config.modelType} model`,
          spanOf(`${at}/rules/${r}/selectors/${s}`), closest(selector, tree)));
      }
      for (const m of hits) matched.add(m);
    });
    const ruleLine = lineOf(`${at}/rules/${r}`);
    if (rule.action === "exclude") {
      for (const m of matched) {
        const entry = selected.get(m.path);
        if (entry) entry.rules.push(r);
        selected.delete(m.path);
      }
      return;
    }
    const targets = rule.action === "target"
      ? [...matched].filter(inLayers).map(select)
      : [...matched].flatMap((m) => (selected.has(m.path) ? [selected.get(m.path)!] : []));
    if (rule.action === "override" && targets.length === 0 && matched.size > 0) {
      diagnostics.push(warning("override changes nothing: none of the modules it matches is targeted by an earlier rule",
        spanOf(`${at}/rules/${r}`)));
    }
    for (const entry of targets) {
      entry.rules.push(r);
      for (const [key, value] of Object.entries(rule.set)) {
        entry.hyperparameters[key] = value;
        entry.sources[key] = { from: "rule", rule: r, line: ruleLine };
      }
    }
    if (rule.action === "target" && !mentionsLayers(rule.selectors) && layers.length === 0) {
      const partial = partialBlocks(targets.map((t) => t.module), tree);
      if (partial) diagnostics.push(warning(partial, spanOf(`${at}/rules/${r}`)));
    }
  });

  if (method.targets === "optional" && !adapter.rules.some((r) => r.action === "target")) {
    for (const m of tree.modules.filter((m) => defaultTarget(method, m))) select(m);
  }
  const modules = [...selected.values()].sort((a, b) => tree.modules.indexOf(a.module) - tree.modules.indexOf(b.module));
  const kinds = method.adapt?.kinds ?? [];
  for (const entry of modules) {
    const ok = method.name === "bitfit" ? Boolean(entry.module.bias) : kinds.includes(entry.module.kind);
    if (!ok) {
      const rule = entry.rules[0];
      diagnostics.push(error(
        method.name === "bitfit"
          ? `${entry.module.path} has no bias for bitfit to train`
          : `${method.name} cannot adapt ${entry.module.path}, ${article(entry.module.kind)} ${entry.module.kind} layer (it adapts ${kinds.join(" and ")} layers)`,
        rule !== undefined ? spanOf(`${at}/rules/${rule}`) : spanOf(`${at}/name`),
      ));
    }
  }
  if (method.targets !== "none" && modules.length === 0 && !diagnostics.some((d) => d.severity === "error")) {
    diagnostics.push(error(`adapter '${adapter.name}' adapts no module: its rules select nothing${layers.length ? " in the chosen layers" : ""} after exclusions`,
      spanOf(`${at}/name`)));
  }
  return { modules, diagnostics };
}

function defaultTarget(method: MethodDefinition, m: ModuleNode): boolean {
  if (method.name === "bitfit") return Boolean(m.bias);
  return (method.adapt?.kinds ?? []).includes(m.kind) && !m.tiedTo;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}

function describe(selector: SelectorIR): string {
  if (selector.kind === "glob") return `"${selector.pattern}"`;
  if (selector.kind === "regex") return `/${selector.pattern}/`;
  return "all_linear";
}

/**
 * True when a glob names layers itself ([0..3] or a number), so matching only
 * some blocks is what it says. Regexes get no such pass: `layers\.[0-9]\.`
 * silently missing layers 10 and up is the mistake this warning is for.
 */
function mentionsLayers(selectors: SelectorIR[]): boolean {
  return selectors.some((s) => s.kind === "glob" && /\[|(^|\.)\d+(\.|$)/.test(s.pattern));
}

/** A warning when a rule adapts a role in some repeated blocks but not in others. */
function partialBlocks(matched: ModuleNode[], tree: ModelTree): string | undefined {
  const byRole = new Map<string, Set<number>>();
  for (const m of matched) {
    if (m.layer === null) continue;
    if (!byRole.has(m.role)) byRole.set(m.role, new Set());
    byRole.get(m.role)!.add(m.layer);
  }
  for (const [role, layers] of byRole) {
    const all = new Set(tree.modules.filter((m) => m.role === role && m.layer !== null).map((m) => m.layer!));
    if (layers.size < all.size) {
      const missing = [...all].filter((l) => !layers.has(l)).sort((a, b) => a - b);
      return `this rule adapts ${role} in ${layers.size} of ${all.size} layers (not in ${ranges(missing)}), though every layer has one of the same shape`;
    }
  }
  return undefined;
}

function ranges(numbers: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(j > i ? `${numbers[i]}..${numbers[j]}` : `${numbers[i]}`);
    i = j + 1;
  }
  return `layer${numbers.length === 1 ? "" : "s"} ${parts.join(", ")}`;
}

/** The module paths closest to what a selector that matched nothing was probably meant to say. */
function closest(selector: SelectorIR, tree: ModelTree): string | undefined {
  const text = selector.kind === "glob" ? selector.pattern : selector.kind === "regex" ? selector.pattern : "";
  const generic = [...new Set(tree.modules.map((m) => m.path.replace(/\.\d+\./, ".*.")))];
  const scored = generic.map((path) => {
    const segments = path.split(".");
    const depth = Math.min(segments.length, text.split(".").length);
    const suffix = segments.slice(-depth).join(".");
    return { path, score: Math.min(distance(text, suffix), distance(text, path)) };
  });
  scored.sort((a, b) => a.score - b.score || a.path.localeCompare(b.path));
  const best = scored.slice(0, 3).map((s) => s.path);
  return best.length ? `closest module paths: ${best.join(", ")}` : undefined;
}
