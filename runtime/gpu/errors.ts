// Errors that name the generated kernel they came from, so a WGSL mistake
// points at a template rather than at an anonymous shader module.
import type { KernelSource } from "../../compiler/codegen/types.js";

export class KernelError extends Error {
  constructor(
    readonly kernelKey: string,
    readonly template: string,
    readonly stage: "compile" | "dispatch",
    detail: string,
  ) {
    super(`kernel ${kernelKey} (from compiler/codegen/templates/${template}) failed to ${stage === "compile" ? "compile" : "run"}:\n${detail}`);
  }

  static of(kernel: KernelSource, stage: "compile" | "dispatch", detail: string): KernelError {
    return new KernelError(kernel.key, kernel.template, stage, detail);
  }
}
