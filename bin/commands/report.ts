import pc from "picocolors";
import { LineIndex, renderDiagnostic, type Diagnostic, type SourceFile } from "../../grammar/diagnostics.js";
import { stderrIsTty, type Io } from "../io.js";

// Binary garbage can produce an error per byte; past this many, stop listing.
const MAX_SHOWN = 50;

/** Prints diagnostics to stderr, coloured on a terminal. */
export function printDiagnostics(io: Io, source: SourceFile, diagnostics: readonly Diagnostic[]): void {
  const index = new LineIndex(source.text);
  const colour = stderrIsTty() && !process.env.NO_COLOR;
  for (const d of diagnostics.slice(0, MAX_SHOWN)) {
    let text = renderDiagnostic(d, source, index);
    if (colour) {
      text = text.replace(/: (error|warning): /, (_, s: string) => `: ${s === "error" ? pc.bold(pc.red(s)) : pc.bold(pc.yellow(s))}: `);
    }
    io.err(text);
  }
  if (diagnostics.length > MAX_SHOWN) io.err(`${source.path}: ... and ${diagnostics.length - MAX_SHOWN} more`);
}

export function diagnosticsJson(source: SourceFile, diagnostics: readonly Diagnostic[]): object[] {
  const index = new LineIndex(source.text);
  return diagnostics.map((d) => {
    const start = d.span ? index.position(d.span.start) : undefined;
    const end = d.span ? index.position(d.span.end) : undefined;
    return { file: source.path, severity: d.severity, message: d.message, hint: d.hint, start, end };
  });
}
