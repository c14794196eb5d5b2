// Records (pipeline, bind group, workgroups) steps and submits them in one
// command encoder and one compute pass: dispatches in a pass run in order and
// see each other's writes, and every extra submit costs far more than a
// dispatch. The dispatcher knows kernels only as data (KernelInstance).
import type { KernelInstance, ParamField } from "../../compiler/codegen/types.js";
import type { Bindable } from "./buffers.js";
import { KernelError } from "./errors.js";
import { packParams } from "./params.js";
import type { CompiledKernel, PipelineCache } from "./pipelines.js";

interface Step {
  compiled: CompiledKernel;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

export type BufferMap = Record<string, Bindable>;

export class Dispatcher {
  private steps: Step[] = [];
  private readonly uniforms: GPUBuffer[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: PipelineCache,
  ) {}

  /**
   * Adds one dispatch. `buffers` names a buffer for every storage binding;
   * `params` gives run-time values for the kernel's params fields (over the
   * instance's compile-time ones).
   */
  async record(
    instance: KernelInstance,
    buffers: BufferMap,
    options: { params?: Record<string, number>; workgroups?: [number, number, number] } = {},
  ): Promise<void> {
    const compiled = await this.pipelines.get(instance.kernel);
    const source = instance.kernel;
    const entries: GPUBindGroupEntry[] = source.bindings.map((binding, index) => {
      if (binding.access === "uniform") {
        const values = { ...instance.params, ...options.params };
        return { binding: index, resource: { buffer: this.paramsBuffer(source.params ?? [], values, source.key) } };
      }
      const bound = buffers[binding.name];
      if (!bound) throw KernelError.of(source, "dispatch", `no buffer given for binding "${binding.name}"`);
      const resource = "buffer" in bound ? bound : { buffer: bound };
      return { binding: index, resource };
    });
    this.device.pushErrorScope("validation");
    const bindGroup = this.device.createBindGroup({ layout: compiled.layout, entries, label: source.key });
    const error = await this.device.popErrorScope();
    if (error) throw KernelError.of(source, "dispatch", error.message);
    this.steps.push({ compiled, bindGroup, workgroups: options.workgroups ?? instance.dispatch });
  }

  get length(): number {
    return this.steps.length;
  }

  /** Encodes every recorded step into one submit and waits for the GPU to finish it. */
  async submit(): Promise<void> {
    const steps = this.steps;
    this.steps = [];
    if (steps.length === 0) return;
    const { device } = this;
    device.pushErrorScope("validation");
    device.pushErrorScope("out-of-memory");
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const step of steps) {
      pass.setPipeline(step.compiled.pipeline);
      pass.setBindGroup(0, step.bindGroup);
      pass.dispatchWorkgroups(...step.workgroups);
    }
    pass.end();
    device.queue.submit([encoder.finish()]);
    const oom = await device.popErrorScope();
    const validation = await device.popErrorScope();
    await device.queue.onSubmittedWorkDone();
    for (const b of this.uniforms.splice(0)) b.destroy();
    const error = validation ?? oom;
    if (error) {
      const keys = [...new Set(steps.map((s) => s.compiled.source.key))];
      const first = steps[0]!.compiled.source;
      throw new KernelError(keys.join(", "), first.template, "dispatch", error.message);
    }
  }

  private paramsBuffer(fields: ParamField[], values: Record<string, number>, key: string): GPUBuffer {
    const data = packParams(fields, (name) => {
      const value = values[name];
      if (value === undefined) throw new Error(`kernel ${key}: no value for params.${name}`);
      return value;
    });
    const buffer = this.device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(buffer, 0, data);
    this.uniforms.push(buffer);
    return buffer;
  }
}
