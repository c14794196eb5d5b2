import { acquireDevice, LIMITS_WE_USE, NoAdapterError } from "../../runtime/device.js";
import type { Io } from "../io.js";

export interface DoctorOptions {
  json?: boolean;
  quiet?: boolean;
}

/** Prints the WebGPU adapter and what we rely on, or why there is none. */
export async function doctor(io: Io, options: DoctorOptions): Promise<number> {
  try {
    const gpu = await acquireDevice();
    if (options.quiet) return 0;
    const report = {
      adapter: gpu.info,
      backend: backendOf(gpu.info.description, gpu.info.vendor),
      features: gpu.features,
      limits: gpu.limits,
    };
    if (options.json) {
      io.out(JSON.stringify(report, null, 2));
      return 0;
    }
    io.out(`adapter       ${gpu.info.description || gpu.info.device || "(unnamed)"}`);
    io.out(`vendor        ${gpu.info.vendor || "-"}   architecture ${gpu.info.architecture || "-"}`);
    io.out(`backend       ${report.backend}`);
    io.out(`features      ${gpu.features.join(", ") || "(none)"}`);
    io.out("limits");
    const width = Math.max(...LIMITS_WE_USE.map((n) => n.length));
    for (const name of LIMITS_WE_USE) io.out(`  ${name.padEnd(width)}  ${gpu.limits[name]}`);
    return 0;
  } catch (error) {
    if (!(error instanceof NoAdapterError)) throw error;
    if (options.json) {
      io.out(JSON.stringify({ adapter: null, reasons: error.reasons, fix: error.fix }, null, 2));
    } else if (!options.quiet) {
      io.err("peftc: error: no WebGPU adapter could be created");
      for (const reason of error.reasons) io.err(`  why: ${reason}`);
      for (const line of error.fix) io.err(`  fix: ${line}`);
    }
    return 1;
  }
}

function backendOf(description: string, vendor: string): string {
  if (process.platform === "darwin") return "metal";
  if (process.platform === "win32") return "d3d12";
  return /vulkan|llvmpipe|lavapipe|mesa/i.test(`${description} ${vendor}`) || process.platform === "linux" ? "vulkan" : "unknown";
}
