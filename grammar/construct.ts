// Builds AST nodes from plain values, for specs that peftc writes itself
// (`peftc import`). The nodes have empty spans; format() turns them into text.
import type { AdapterDecl, Assignment, Block, BlockItem, ModelDecl, Rule, RuleAction, Selector, SpecFile, Value } from "./ast.js";

const NOWHERE = { start: 0, end: 0 };
const trivia = () => ({ leading: [], blankBefore: false });

export function block(items: BlockItem[]): Block {
  return { items, dangling: [], span: NOWHERE };
}

export function assignment(key: string, value: Value): Assignment {
  return { kind: "assignment", key, keySpan: NOWHERE, value, span: NOWHERE, ...trivia() };
}

export function rule(action: RuleAction, selectors: Selector[], settings?: Assignment[]): Rule {
  return {
    kind: "rule",
    action,
    actionSpan: NOWHERE,
    selectors,
    block: settings && settings.length > 0 ? block(settings) : undefined,
    span: NOWHERE,
    ...trivia(),
  };
}

export function modelDecl(family: string, settings: Assignment[]): ModelDecl {
  return { kind: "model", family, familySpan: NOWHERE, body: block(settings), span: NOWHERE, ...trivia() };
}

export function adapterDecl(name: string, method: string, items: BlockItem[]): AdapterDecl {
  return { kind: "adapter", name, nameSpan: NOWHERE, method, methodSpan: NOWHERE, body: block(items), span: NOWHERE, ...trivia() };
}

export function specFile(items: (ModelDecl | AdapterDecl)[]): SpecFile {
  return {
    header: { kind: "header", version: 1, versionSpan: NOWHERE, span: NOWHERE, ...trivia() },
    items,
    dangling: [],
    span: NOWHERE,
  };
}

/** A number as the language writes it: whole numbers plainly, others with a '.' or an exponent. */
export function numberText(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  return String(n).replace(/e\+/, "e");
}

/** A JSON value as a spec value; integer lists become ranges where they run on. */
export function valueOf(value: unknown, integer = false): Value {
  if (typeof value === "string") return { kind: "string", value, span: NOWHERE };
  if (typeof value === "boolean") return { kind: "bool", value, span: NOWHERE };
  if (typeof value === "number") return { kind: "number", value, raw: numberText(value), integer: integer || Number.isInteger(value), span: NOWHERE };
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => Number.isInteger(v))) return { kind: "list", items: runs(value as number[]), span: NOWHERE };
    return { kind: "list", items: value.map((v) => valueOf(v, integer)), span: NOWHERE };
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [callee, arg] = entries[0]!;
      if (callee === "regex" && typeof arg === "string") return { kind: "regex", source: arg, span: NOWHERE };
      return { kind: "call", callee, calleeSpan: NOWHERE, args: [valueOf(arg)], span: NOWHERE };
    }
  }
  throw new Error(`no spec form for ${JSON.stringify(value)}`);
}

function runs(numbers: number[]): Value[] {
  const out: Value[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    if (j - i >= 2) out.push({ kind: "range", from: numbers[i]!, to: numbers[j]!, span: NOWHERE });
    else for (let k = i; k <= j; k++) out.push(valueOf(numbers[k]!, true));
    i = j + 1;
  }
  return out;
}
