// Located messages: `file:line:col: error: message`, the source line, and a
// caret under the span. Every stage reports through these.
import type { Span } from "./ast.js";

export type Severity = "error" | "warning";

export interface Diagnostic {
  severity: Severity;
  message: string;
  span?: Span;
  /** A "did you mean" or how-to-fix line. */
  hint?: string;
}

export interface SourceFile {
  path: string;
  text: string;
}

/** Maps offsets to 1-based line and column. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13 && text.charCodeAt(i + 1) !== 10) this.starts.push(i + 1);
    }
  }

  position(offset: number): { line: number; column: number } {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= clamped) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: clamped - this.starts[lo]! + 1 };
  }

  lineText(line: number): string {
    const start = this.starts[line - 1] ?? this.text.length;
    const next = this.starts[line] ?? this.text.length;
    return this.text.slice(start, next).replace(/\r?\n$|\r$/, "");
  }
}

export function error(message: string, span?: Span, hint?: string): Diagnostic {
  return { severity: "error", message, span, hint };
}

export function warning(message: string, span?: Span, hint?: string): Diagnostic {
  return { severity: "warning", message, span, hint };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Sorted by position; errors before warnings at the same place. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      (a.span?.start ?? -1) - (b.span?.start ?? -1) ||
      (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1),
  );
}

// Binary garbage or a line of minified text must not flood the terminal.
const MAX_SHOWN_LINE = 160;

export function renderDiagnostic(d: Diagnostic, file: SourceFile, index = new LineIndex(file.text)): string {
  if (!d.span) {
    const lines = [`${file.path}: ${d.severity}: ${d.message}`];
    if (d.hint) lines.push(`  hint: ${d.hint}`);
    return lines.join("\n");
  }
  const { line, column } = index.position(d.span.start);
  const out = [`${file.path}:${line}:${column}: ${d.severity}: ${d.message}`];
  const raw = index.lineText(line);
  const printable = (s: string) => s.replace(/\t/g, " ").replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]/g, "?");
  let shown = printable(raw);
  let caretStart = column - 1;
  if (shown.length > MAX_SHOWN_LINE) {
    const from = Math.max(0, caretStart - 40);
    shown = (from > 0 ? "..." : "") + shown.slice(from, from + MAX_SHOWN_LINE) + "...";
    caretStart = caretStart - from + (from > 0 ? 3 : 0);
  }
  const end = index.position(d.span.end);
  const width = end.line === line ? Math.max(1, end.column - column) : Math.max(1, raw.length - (column - 1));
  out.push(`  ${shown}`);
  out.push(`  ${" ".repeat(caretStart)}${"^".repeat(Math.min(width, Math.max(1, shown.length - caretStart)))}`);
  if (d.hint) out.push(`  hint: ${d.hint}`);
  return out.join("\n");
}
