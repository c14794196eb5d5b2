// AST to Spec IR: structure only. Values become JSON, selectors are checked,
// names are resolved and every value's span is recorded; the schemas are
// applied afterwards by validate.ts.
import type { AdapterDecl, Assignment, Block, Rule, Selector, Span, SpecFile, Value } from "../../grammar/ast.js";
import { error, type Diagnostic } from "../../grammar/diagnostics.js";
import { findMethod, allMethods } from "../methods/registry.js";
import { compileGlob } from "../selectors/glob.js";
import { compileFullMatch } from "../selectors/regex.js";
import { modelFamilies } from "./sections.js";
import { IR_VERSION, pointer, SpanTable, type AdapterIR, type RuleIR, type SelectorIR, type SpecIR, type TrainIR } from "./ir.js";
import { suggest, didYouMean } from "./suggest.js";
import type { LineIndex } from "../../grammar/diagnostics.js";

// A written range expands to this many numbers at most.
const MAX_RANGE = 100_000;

export interface Lowered {
  ir: SpecIR;
  spans: SpanTable;
  /** The span of each adapter's declaration, by adapter index. */
  adapterSpans: Span[];
  diagnostics: Diagnostic[];
}

/** Knows which keys of a block take a `{ ... }` block of their own, and what their value is called. */
export type PrimaryOf = (key: string) => string | undefined;

export class Lowerer {
  readonly spans = new SpanTable();
  readonly diagnostics: Diagnostic[] = [];

  constructor(private readonly lines: LineIndex) {}

  lower(file: SpecFile, primaryOfTrainKey: PrimaryOf): Lowered {
    const ir: SpecIR = { peft: IR_VERSION, model: null, adapters: [], train: [] };
    const adapterSpans: Span[] = [];
    const seenAdapters = new Map<string, Span>();
    let modelSpan: Span | undefined;

    for (const item of file.items) {
      if (item.kind === "model") {
        if (modelSpan) {
          this.report(error(`a spec has one model block; another was declared at line ${this.lineOf(modelSpan)}`, item.span));
          continue;
        }
        modelSpan = item.span;
        const families = modelFamilies();
        if (!families.includes(item.family)) {
          this.report(error(`unknown model family '${item.family}'`, item.familySpan, didYouMean(item.family, families, "families")));
        }
        this.spans.setValue("/model", item.span);
        this.spans.setValue("/model/family", item.familySpan);
        const settings = this.block(item.body, "/model", { rules: false, primaryOf: () => undefined });
        // Unknown keys stay in so that the schema reports them where they were written.
        ir.model = { family: item.family, path: null, name: null, ...settings };
      } else if (item.kind === "adapter") {
        const first = seenAdapters.get(item.name);
        if (first) {
          this.report(error(`duplicate adapter '${item.name}': it was declared at line ${this.lineOf(first)}`, item.nameSpan,
            "give each adapter its own name"));
          continue;
        }
        seenAdapters.set(item.name, item.nameSpan);
        const index = ir.adapters.length;
        adapterSpans.push(item.span);
        ir.adapters.push(this.adapter(item, index));
      }
    }
    for (const item of file.items) {
      if (item.kind !== "train") continue;
      const index = ir.train.length;
      const at = pointer("train", index);
      if (!seenAdapters.has(item.adapter)) {
        this.report(error(`train names adapter '${item.adapter}', which this spec does not declare`, item.adapterSpan,
          didYouMean(item.adapter, [...seenAdapters.keys()], "adapters")));
      }
      this.spans.setValue(at, item.span);
      this.spans.setValue(`${at}/adapter`, item.adapterSpan);
      const settings = this.block(item.body, at, { rules: false, primaryOf: primaryOfTrainKey });
      const train: TrainIR = { adapter: item.adapter, ...settings };
      ir.train.push(train);
    }
    return { ir, spans: this.spans, adapterSpans, diagnostics: this.diagnostics };
  }

  private adapter(decl: AdapterDecl, index: number): AdapterIR {
    const at = pointer("adapters", index);
    this.spans.setValue(at, decl.span);
    this.spans.setValue(`${at}/name`, decl.nameSpan);
    this.spans.setValue(`${at}/method`, decl.methodSpan);
    this.spans.setValue(`${at}/hyperparameters`, decl.nameSpan);
    const method = findMethod(decl.method);
    if (!method) {
      const names = allMethods().map((m) => m.name);
      const close = suggest(decl.method, names);
      this.report(error(`unknown method '${decl.method}'${close ? `; did you mean '${close}'?` : ""}`, decl.methodSpan,
        `methods: ${names.join(", ")}`));
    }
    const rules: RuleIR[] = [];
    const assignments: Assignment[] = [];
    for (const item of decl.body.items) {
      if (item.kind === "assignment") assignments.push(item);
      else rules.push(this.rule(item, `${at}/rules/${rules.length}`));
    }
    const hyperparameters = this.assignments(assignments, `${at}/hyperparameters`, () => undefined);
    return { name: decl.name, method: decl.method, hyperparameters, rules };
  }

  private rule(rule: Rule, at: string): RuleIR {
    this.spans.setValue(at, rule.span);
    this.spans.setValue(`${at}/action`, rule.actionSpan);
    const selectors = rule.selectors.map((s, i) => this.selector(s, `${at}/selectors/${i}`));
    let set: Record<string, unknown> = {};
    this.spans.setValue(`${at}/set`, rule.block?.span ?? rule.actionSpan);
    if (rule.action === "exclude" && rule.block) {
      this.report(error("exclude takes no settings block: it removes modules from the adapter", rule.block.span));
    } else if (rule.action === "override" && !rule.block) {
      this.report(error("override needs settings for the modules it matches, e.g. override \"q_proj\" { r = 16 }", rule.span));
    } else if (rule.block) {
      set = this.block(rule.block, `${at}/set`, { rules: false, primaryOf: () => undefined });
    }
    return { action: rule.action, selectors, set };
  }

  private selector(selector: Selector, at: string): SelectorIR {
    this.spans.setValue(at, selector.span);
    if (selector.kind === "all_linear") return { kind: "all_linear" };
    if (selector.kind === "regex") {
      const compiled = compileFullMatch(selector.source);
      if (!compiled.ok) this.report(error(compiled.message, selector.span));
      return { kind: "regex", pattern: selector.source };
    }
    const compiled = compileGlob(selector.pattern);
    if (!compiled.ok) {
      this.report(error(`bad glob: ${compiled.error.message}`, this.insideString(selector.span, selector.pattern, compiled.error)));
    }
    return { kind: "glob", pattern: selector.pattern };
  }

  /** Points into a string literal when the offsets can be mapped (no escapes), else at the whole string. */
  private insideString(span: Span, pattern: string, at: { offset: number; length: number }): Span {
    if (span.end - span.start !== pattern.length + 2) return span;
    const start = span.start + 1 + at.offset;
    return { start, end: start + Math.max(1, at.length) };
  }

  private block(block: Block, at: string, options: { rules: boolean; primaryOf: PrimaryOf }): Record<string, unknown> {
    const assignments: Assignment[] = [];
    for (const item of block.items) {
      if (item.kind === "rule") {
        this.report(error(`'${item.action}' rules belong in an adapter block`, item.actionSpan));
      } else {
        assignments.push(item);
      }
    }
    return this.assignments(assignments, at, options.primaryOf);
  }

  private assignments(assignments: Assignment[], at: string, primaryOf: PrimaryOf): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const seen = new Map<string, Span>();
    for (const a of assignments) {
      const first = seen.get(a.key);
      if (first) {
        this.report(error(`'${a.key}' is set twice in this block (first at line ${this.lineOf(first)})`, a.keySpan));
        continue;
      }
      seen.set(a.key, a.keySpan);
      const here = `${at}/${a.key}`;
      this.spans.setKey(here, a.keySpan);
      const primary = primaryOf(a.key);
      if (a.block && !primary) {
        this.report(error(`'${a.key}' takes no { ... } block`, a.block.span));
      }
      const value = this.value(a.value, primary ? `${here}/${primary}` : here);
      if (primary) {
        this.spans.setValue(here, a.span);
        const settings = a.block ? this.assignments(a.block.items.filter(isAssignment), here, () => undefined) : {};
        for (const item of a.block?.items ?? []) {
          if (item.kind === "rule") this.report(error(`'${item.action}' rules belong in an adapter block`, item.actionSpan));
        }
        result[a.key] = { [primary]: value, ...settings };
      } else {
        result[a.key] = value;
      }
    }
    return result;
  }

  private value(value: Value, at: string): unknown {
    this.spans.setValue(at, value.span);
    switch (value.kind) {
      case "string":
        return value.value;
      case "number":
        return value.value;
      case "bool":
        return value.value;
      case "ident":
        return value.name;
      case "regex": {
        const compiled = compileFullMatch(value.source);
        if (!compiled.ok) this.report(error(compiled.message, value.span));
        return { regex: value.source };
      }
      case "range":
        return this.range(value.from, value.to, value.span);
      case "list": {
        const items: unknown[] = [];
        for (const item of value.items) {
          if (item.kind === "range") {
            for (const n of this.range(item.from, item.to, item.span)) {
              this.spans.setValue(`${at}/${items.length}`, item.span);
              items.push(n);
            }
          } else {
            items.push(this.value(item, `${at}/${items.length}`));
          }
        }
        return items;
      }
      case "call": {
        this.spans.setValue(`${at}/${value.callee}`, value.span);
        const args = value.args.map((arg, i) => this.value(arg, `${at}/${value.callee}${value.args.length === 1 ? "" : `/${i}`}`));
        this.spans.setValue(at, value.span);
        return { [value.callee]: args.length === 1 ? args[0] : args };
      }
    }
  }

  private range(from: number, to: number, span: Span): number[] {
    if (!Number.isInteger(from) || !Number.isInteger(to)) {
      this.report(error("a range is written with integers, e.g. 0..15", span));
      return [];
    }
    if (to < from) {
      this.report(error(`range ${from}..${to} is empty: write the smaller number first`, span));
      return [];
    }
    if (to - from >= MAX_RANGE) {
      this.report(error(`range ${from}..${to} has more than ${MAX_RANGE} numbers`, span));
      return [];
    }
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  }

  private report(d: Diagnostic): void {
    this.diagnostics.push(d);
  }

  private lineOf(span: Span): number {
    return this.lines.position(span.start).line;
  }
}

function isAssignment(item: Assignment | Rule): item is Assignment {
  return item.kind === "assignment";
}
