// A spec from text to validated IR, collecting every diagnostic of the file.
import { readFileSync, statSync } from "node:fs";
import type { SpecFile } from "../../grammar/ast.js";
import { hasErrors, LineIndex, sortDiagnostics, type Diagnostic, type SourceFile } from "../../grammar/diagnostics.js";
import { parse } from "../../grammar/parse.js";
import { UserError } from "../errors.js";
import type { SpanTable, SpecIR } from "./ir.js";
import { Lowerer } from "./lower.js";
import { trainSchema } from "./sections.js";
import { validateLowered } from "./validate.js";

export interface AnalyzedSpec {
  source: SourceFile;
  ast?: SpecFile;
  /** Present when the spec has no errors. */
  ir?: SpecIR;
  spans?: SpanTable;
  diagnostics: Diagnostic[];
}

const primaryOfTrainKey = (key: string): string | undefined =>
  (trainSchema.properties as Record<string, { "x-primary"?: string }>)[key]?.["x-primary"];

export function analyzeSpec(source: SourceFile): AnalyzedSpec {
  const parsed = parse(source.text);
  if (!parsed.ast || hasErrors(parsed.diagnostics)) return { source, ast: parsed.ast, diagnostics: parsed.diagnostics };
  const lowered = new Lowerer(new LineIndex(source.text)).lower(parsed.ast, primaryOfTrainKey);
  const diagnostics = [...parsed.diagnostics, ...lowered.diagnostics];
  // Schemas run even after structural errors, so that one run reports all it can.
  diagnostics.push(...validateLowered(lowered));
  const sorted = sortDiagnostics(diagnostics);
  if (hasErrors(sorted)) return { source, ast: parsed.ast, spans: lowered.spans, diagnostics: sorted };
  return { source, ast: parsed.ast, ir: lowered.ir, spans: lowered.spans, diagnostics: sorted };
}

// A spec is a short text file; anything larger is a wrong path.
const MAX_SPEC_BYTES = 4 * 1024 * 1024;

/** Reads a spec file; a missing or unreadable file is a UserError. */
export function readSpecSource(path: string): SourceFile {
  let size: number;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new UserError(`${path} is a directory, not a .peft spec`);
    size = stat.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  if (size > MAX_SPEC_BYTES) throw new UserError(`${path} is ${size} bytes: too large to be a .peft spec`);
  return { path, text: readFileSync(path, "utf8") };
}
