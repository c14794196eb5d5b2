import { dirname, resolve } from "node:path";
import { hasErrors } from "../../grammar/diagnostics.js";
import { analyzeSpec, readSpecSource, type AnalyzedSpec } from "../../compiler/spec/analyze.js";
import { UserError } from "../../compiler/errors.js";
import { modelDirOf } from "../../compiler/resolve/resolve-spec.js";
import type { OutputInput } from "../../runtime/files/outputs.js";
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

/**
 * What a command that reads this spec must never write over: the spec, its
 * model directory and the data files its train blocks name.
 */
export function specInputs(spec: AnalyzedSpec, modelOverride?: string): OutputInput[] {
  const inputs: OutputInput[] = [{ path: spec.source.path, what: "the spec" }];
  const model = modelDirOf(spec, modelOverride);
  if (model) inputs.push({ path: model, what: "the model" });
  const base = dirname(resolve(spec.source.path));
  for (const train of spec.ir?.train ?? []) {
    const data = train.data as { path?: unknown; eval?: unknown } | undefined;
    for (const path of [data?.path, data?.eval]) if (typeof path === "string") inputs.push({ path: resolve(base, path), what: "the training data" });
  }
  return inputs;
}
