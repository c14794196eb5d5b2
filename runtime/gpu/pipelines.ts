// Compiled pipelines, one per kernel key. On lavapipe compiling a kernel costs
// 0.2–2 s, so each specialisation is compiled once, and a batch of kernels is
// compiled concurrently through createComputePipelineAsync.
import type { KernelSource } from "../../compiler/codegen/types.js";
import { KernelError } from "./errors.js";

export interface CompiledKernel {
  source: KernelSource;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class PipelineCache {
  private readonly pending = new Map<string, Promise<CompiledKernel>>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.pending.size;
  }

  /** The compiled kernel for this source, compiling it on first request. */
  get(source: KernelSource): Promise<CompiledKernel> {
    let entry = this.pending.get(source.key);
    if (!entry) {
      entry = this.compile(source);
      this.pending.set(source.key, entry);
      // A failed compile is not cached: the error is reported, a retry compiles again.
      entry.catch(() => this.pending.delete(source.key));
    }
    return entry;
  }

  /** Compiles every distinct kernel in the list concurrently. */
  async prepare(sources: Iterable<KernelSource>): Promise<void> {
    const unique = new Map<string, KernelSource>();
    for (const s of sources) unique.set(s.key, s);
    await Promise.all([...unique.values()].map((s) => this.get(s)));
  }

  private async compile(source: KernelSource): Promise<CompiledKernel> {
    const { device } = this;
    device.pushErrorScope("validation");
    device.pushErrorScope("internal");
    const module = device.createShaderModule({ code: source.wgsl, label: source.key });
    let pipeline: GPUComputePipeline | undefined;
    let failure: string | undefined;
    try {
      pipeline = await device.createComputePipelineAsync({
        label: source.key,
        layout: "auto",
        compute: { module, entryPoint: source.entryPoint },
      });
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
    }
    const internal = await device.popErrorScope();
    const validation = await device.popErrorScope();
    if (!pipeline || internal || validation) {
      const info = await module.getCompilationInfo();
      const messages = info.messages
        .filter((m) => m.type === "error")
        .map((m) => `  ${source.key}.wgsl:${m.lineNum}:${m.linePos}: ${m.message}`);
      const detail = [...messages, failure, validation?.message, internal?.message].filter(Boolean).join("\n");
      throw KernelError.of(source, "compile", detail || "unknown error");
    }
    return { source, pipeline, layout: pipeline.getBindGroupLayout(0) };
  }
}
