import { hasErrors } from "../../grammar/diagnostics.js";
import { analyzeSpec, readSpecSource, type AnalyzedSpec } from "../../compiler/spec/analyze.js";
import { UserError } from "../../compiler/errors.js";
import type { Io } from "../io.js";
import { printDiagnostics } from "./report.js";

/** Reads and validates a spec, printing its diagnostics; errors end the command with exit 1. */
export function loadValidSpec(io: Io, file: string): Required<Pick<AnalyzedSpec, "ir" | "spans">> & AnalyzedSpec {
  const source = readSpecSource(file);
  const result = analyzeSpec(source);
  printDiagnostics(io, source, result.diagnostics);
  if (hasErrors(result.diagnostics) || !result.ir || !result.spans) {
    throw new ReportedError();
  }
  return result as Required<Pick<AnalyzedSpec, "ir" | "spans">> & AnalyzedSpec;
}

/** A failure whose messages were already printed: exit 1 without another line. */
export class ReportedError extends UserError {
  constructor() {
    super("");
  }
}
