import { UserError } from "../../compiler/errors.js";
import { peftConfigText } from "../../compiler/peft-config/emit.js";
import type { AdapterIR, SpecIR } from "../../compiler/spec/ir.js";
import type { Io } from "../io.js";
import { loadValidSpec } from "./spec.js";

export interface CompileOptions {
  emit?: string;
  model?: string;
  output?: string;
  adapter?: string;
}

export const EMIT_KINDS = ["ir", "peft-config"] as const;

export function compile(io: Io, file: string, options: CompileOptions): number {
  const spec = loadValidSpec(io, file);
  switch (options.emit) {
    case "ir":
      io.out(JSON.stringify(spec.ir, null, 2));
      return 0;
    case "peft-config":
      io.out(peftConfigText(spec.ir, chooseAdapter(spec.ir, options.adapter)));
      return 0;
    default:
      throw new UserError("compile needs --emit (ir, peft-config); writing bundles needs --model and comes with the runtime");
  }
}

function chooseAdapter(ir: SpecIR, name: string | undefined): AdapterIR {
  const names = ir.adapters.map((a) => a.name).join(", ");
  if (name !== undefined) {
    const found = ir.adapters.find((a) => a.name === name);
    if (!found) throw new UserError(`no adapter named '${name}' in this spec (adapters: ${names || "none"})`);
    return found;
  }
  if (ir.adapters.length === 1) return ir.adapters[0]!;
  if (ir.adapters.length === 0) throw new UserError("this spec declares no adapter");
  throw new UserError(`this spec declares several adapters (${names}): choose one with --adapter NAME`);
}
