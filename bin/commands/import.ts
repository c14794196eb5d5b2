import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../compiler/errors.js";
import { importPeftConfig } from "../../compiler/peft-config/import.js";
import { writeFileAtomic } from "../../runtime/files/atomic.js";
import { claimFileOutput, fileSignature } from "../../runtime/files/outputs.js";
import type { Io } from "../io.js";

export interface ImportOptions {
  output?: string;
  name?: string;
}

/** A PEFT adapter_config.json (or the adapter directory holding one) as a spec. */
export function importConfig(io: Io, input: string, options: ImportOptions): number {
  let path = input;
  try {
    if (statSync(input).isDirectory()) path = join(input, "adapter_config.json");
  } catch {
    throw new UserError(`cannot read ${input}: no such file or directory`);
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const result = importPeftConfig(text, path, options.name);
  for (const warning of result.warnings) io.err(`warning: ${warning}`);
  if (options.output) {
    const output = claimFileOutput(options.output, "spec", [{ path, what: "the PEFT config" }]);
    writeFileAtomic(output, `${fileSignature("spec")} import from ${path}\n${result.spec}`);
    io.out(`wrote ${options.output} (${result.method})`);
  } else {
    io.out(result.spec.replace(/\n$/, ""));
  }
  return 0;
}
