// The Spec IR: a .peft file's meaning as plain JSON. Hyperparameters have their
// defaults filled in, ranges are expanded and names are resolved; the source
// layout is gone (spans live beside the IR in a SpanTable, not inside it).
import type { Span } from "../../grammar/ast.js";
import type { Hyperparameters } from "../methods/types.js";

export const IR_VERSION = 1;

export type SelectorIR =
  | { kind: "glob"; pattern: string }
  | { kind: "regex"; pattern: string }
  | { kind: "all_linear" };

export interface RuleIR {
  action: "target" | "exclude" | "override";
  selectors: SelectorIR[];
  /** Hyperparameters set for the modules this rule matches (target and override only). */
  set: Hyperparameters;
}

export interface AdapterIR {
  name: string;
  method: string;
  hyperparameters: Hyperparameters;
  rules: RuleIR[];
}

export interface ModelIR {
  family: string;
  path: string | null;
  /** The base model's name for PEFT's base_model_name_or_path (defaults to path). */
  name: string | null;
}

export interface TrainIR {
  adapter: string;
  [setting: string]: unknown;
}

export interface SpecIR {
  peft: typeof IR_VERSION;
  model: ModelIR | null;
  adapters: AdapterIR[];
  train: TrainIR[];
}

/** Source spans of IR values, by JSON pointer (e.g. /adapters/0/hyperparameters/r). */
export class SpanTable {
  private readonly values = new Map<string, Span>();
  private readonly keys = new Map<string, Span>();

  setValue(pointer: string, span: Span): void {
    this.values.set(pointer, span);
  }

  setKey(pointer: string, span: Span): void {
    this.keys.set(pointer, span);
  }

  hasValue(pointer: string): boolean {
    return this.values.has(pointer);
  }

  /** The span of the value at pointer, or of its nearest located ancestor. */
  value(pointer: string): Span | undefined {
    for (let p = pointer; ; p = p.slice(0, p.lastIndexOf("/"))) {
      const span = this.values.get(p);
      if (span) return span;
      if (p === "") return undefined;
    }
  }

  /** The span of the key naming the value at pointer (falls back to the value). */
  key(pointer: string): Span | undefined {
    return this.keys.get(pointer) ?? this.value(pointer);
  }
}

export function pointer(...parts: (string | number)[]): string {
  return parts.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}
