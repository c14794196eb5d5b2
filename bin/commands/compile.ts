import type { Io } from "../io.js";
import { UserError } from "../../compiler/errors.js";
import { loadValidSpec } from "./spec.js";

export interface CompileOptions {
  emit?: string;
  model?: string;
  output?: string;
  adapter?: string;
}

export const EMIT_KINDS = ["ir"] as const;

export function compile(io: Io, file: string, options: CompileOptions): number {
  const spec = loadValidSpec(io, file);
  switch (options.emit) {
    case "ir":
      io.out(JSON.stringify(spec.ir, null, 2));
      return 0;
    default:
      throw new UserError(`compile --emit takes one of: ${EMIT_KINDS.join(", ")}`);
  }
}
