import { hasErrors } from "../../grammar/diagnostics.js";
import { analyzeSpec, readSpecSource } from "../../compiler/spec/analyze.js";
import type { Io } from "../io.js";
import { diagnosticsJson, printDiagnostics } from "./report.js";

export interface CheckOptions {
  json?: boolean;
}

/** Validates specs; every error of every file is reported in one run. */
export function check(io: Io, files: string[], options: CheckOptions): number {
  let failed = false;
  const report: object[] = [];
  for (const file of files) {
    const source = readSpecSource(file);
    const result = analyzeSpec(source);
    const bad = hasErrors(result.diagnostics);
    failed ||= bad;
    if (options.json) {
      report.push({ file, ok: !bad, diagnostics: diagnosticsJson(source, result.diagnostics) });
      continue;
    }
    printDiagnostics(io, source, result.diagnostics);
    if (!bad && result.ir) {
      const adapters = result.ir.adapters.map((a) => `${a.name} (${a.method})`).join(", ");
      io.out(`${file}: ok: ${result.ir.adapters.length} adapter${result.ir.adapters.length === 1 ? "" : "s"}${adapters ? `: ${adapters}` : ""}`);
    }
  }
  if (options.json) io.out(JSON.stringify(report, null, 2));
  return failed ? 1 : 0;
}
