import { compileSpec } from "../../compiler/bundle/compile.js";
import { writeBundle } from "../../compiler/bundle/write.js";
import { PORTABLE_GPU, type DeviceProfile } from "../../compiler/codegen/types.js";
import { UserError } from "../../compiler/errors.js";
import { peftConfigText } from "../../compiler/peft-config/emit.js";
import { resolveSpec } from "../../compiler/resolve/resolve-spec.js";
import type { AdapterIR, SpecIR } from "../../compiler/spec/ir.js";
import { hasErrors } from "../../grammar/diagnostics.js";
import { acquireDevice, NoAdapterError } from "../../runtime/device.js";
import { deviceProfile } from "../../runtime/gpu/profile.js";
import type { Io } from "../io.js";
import { printDiagnostics } from "./report.js";
import { loadValidSpec, ReportedError, specInputs } from "./spec.js";
import { claimDirectoryOutput } from "../../runtime/files/outputs.js";

export interface CompileOptions {
  emit?: string;
  model?: string;
  output?: string;
  adapter?: string;
}

export const EMIT_KINDS = ["ir", "plan", "graph", "peft-config"] as const;

/**
 * A spec to a bundle (-o), or one stage printed (--emit). Kernels are chosen
 * for this machine's WebGPU adapter, or for a portable GPU when there is none.
 */
export async function compile(io: Io, file: string, options: CompileOptions): Promise<number> {
  const spec = loadValidSpec(io, file);
  if (options.emit === "ir") {
    io.out(JSON.stringify(spec.ir, null, 2));
    return 0;
  }
  if (options.emit === "peft-config") {
    const adapter = chooseAdapter(spec.ir, options.adapter);
    // With a model, the config is the bundle's: Conv1D targets set fan_in_fan_out, and selections
    // PEFT's fields cannot say are written as the module paths they give on the model.
    const resolved = spec.ir.model?.path || options.model ? resolveSpec(spec, options.model ? { modelDir: options.model } : {}) : undefined;
    io.out(peftConfigText(spec.ir, adapter, resolved?.plan?.adapters.find((a) => a.name === adapter.name)));
    return 0;
  }
  if (!options.emit && !options.output) throw new UserError("compile needs -o BUNDLE (write a bundle) or --emit STAGE (print ir, plan, graph or peft-config)");
  const output = options.output ? claimDirectoryOutput(options.output, "bundle", specInputs(spec, options.model)) : undefined;
  const compiled = compileSpec(spec, { device: await profile(), ...(options.model ? { modelDir: options.model } : {}), ...(options.adapter ? { adapter: options.adapter } : {}) });
  printDiagnostics(io, spec.source, compiled.diagnostics);
  if (!compiled.bundle || hasErrors(compiled.diagnostics)) throw new ReportedError();
  const bundle = compiled.bundle;
  if (options.emit === "plan") io.out(JSON.stringify(bundle.plan, null, 2));
  else if (options.emit === "graph") io.out(JSON.stringify(bundle.graph, null, 2));
  if (output) {
    writeBundle(output, bundle);
    io.err(`wrote ${options.output}: ${bundle.wgsl.size} kernels, ${Object.values(bundle.graph.phases).reduce((n, p) => n + p.length, 0)} dispatches in ${Object.keys(bundle.graph.phases).length} phases`);
  }
  return 0;
}

async function profile(): Promise<DeviceProfile> {
  try {
    return deviceProfile(await acquireDevice());
  } catch (e) {
    if (e instanceof NoAdapterError) return PORTABLE_GPU;
    throw e;
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
