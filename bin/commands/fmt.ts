import { hasErrors } from "../../grammar/diagnostics.js";
import { format } from "../../grammar/format.js";
import { parse } from "../../grammar/parse.js";
import { readSpecSource } from "../../compiler/spec/analyze.js";
import { writeFileAtomic } from "../../runtime/files/atomic.js";
import type { Io } from "../io.js";
import { printDiagnostics } from "./report.js";

export interface FmtOptions {
  check?: boolean;
  stdout?: boolean;
}

/** Rewrites specs in canonical form; --check only reports which differ. */
export function fmt(io: Io, files: string[], options: FmtOptions): number {
  let status = 0;
  for (const file of files) {
    const source = readSpecSource(file);
    const parsed = parse(source.text);
    if (!parsed.ast || hasErrors(parsed.diagnostics)) {
      printDiagnostics(io, source, parsed.diagnostics);
      status = 1;
      continue;
    }
    const formatted = format(parsed.ast);
    if (options.stdout) {
      io.out(formatted.replace(/\n$/, ""));
    } else if (formatted !== source.text) {
      if (options.check) {
        io.err(`${file}: not formatted (run peftc fmt ${file})`);
        status = 1;
      } else {
        writeFileAtomic(file, formatted);
        io.out(`formatted ${file}`);
      }
    }
  }
  return status;
}
