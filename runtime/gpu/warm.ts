// Compiles a set of pipelines before they are first needed, in parallel where
// that is possible.
//
// On a GPU, createComputePipelineAsync compiles, so asking for every pipeline
// at once overlaps them. On lavapipe (a CPU adapter) it does not: the shader
// is compiled by LLVM at the pipeline's first dispatch, on the thread that
// submits, one at a time per device. So on a CPU adapter each pipeline is
// dispatched once, a single workgroup on tiny scratch buffers (robust buffer
// access keeps every access in bounds), on helper devices that run side by
// side; Mesa's disk cache then hands the compiled code to the main device's
// first real dispatch. Without the disk cache there is nothing to hand over,
// and pipelines compile at their first real dispatch as before.
import { availableParallelism } from "node:os";
import type { KernelSource } from "../../compiler/codegen/types.js";
import { createHelperDevice } from "../device.js";
import { KernelError } from "./errors.js";
import type { GpuRuntime } from "./index.js";
import { packParams } from "./params.js";

export interface WarmItem {
  source: KernelSource;
  /** Values for the kernel's params fields (a missing one is taken as 1: loop strides must not be 0). */
  params?: Record<string, number>;
}

export interface WarmReport {
  /** Distinct pipelines asked for. */
  kernels: number;
  /** Of those, how many this process had not compiled yet. */
  compiled: number;
  /** Devices that compiled side by side (1: the main device alone). */
  devices: number;
  seconds: number;
}

export type WarmProgress = (done: number, total: number) => void;

/** Keys dispatched once in this process (on any device: the disk cache holds them). */
const warmed = new Set<string>();

/** Mesa keeps no disk cache when this is set, so helpers cannot hand code over. */
function diskCacheDisabled(): boolean {
  const v = (process.env.MESA_SHADER_CACHE_DISABLE ?? process.env.MESA_GLSL_CACHE_DISABLE ?? "").toLowerCase();
  return v === "true" || v === "1" || v === "yes";
}

/** How many devices compile at once: one per core, at most one per pipeline. */
function helperCount(pipelines: number): number {
  const cores = Math.max(1, availableParallelism());
  return Math.min(cores, pipelines);
}

export async function warmPipelines(rt: GpuRuntime, items: Iterable<WarmItem>, progress?: WarmProgress): Promise<WarmReport> {
  const start = performance.now();
  const unique = new Map<string, WarmItem>();
  for (const item of items) if (!unique.has(item.source.key)) unique.set(item.source.key, item);
  const cold = [...unique.values()].filter((i) => !warmed.has(i.source.key));
  const report = (devices: number): WarmReport => ({ kernels: unique.size, compiled: cold.length, devices, seconds: (performance.now() - start) / 1000 });
  if (rt.profile.kind !== "cpu" || cold.length === 0 || diskCacheDisabled()) {
    // createComputePipelineAsync compiles on a GPU; on lavapipe without a disk cache this only validates.
    await rt.pipelines.prepare([...unique.values()].map((i) => i.source));
    return report(1);
  }
  await rt.pipelines.prepare(cold.map((i) => i.source));
  const devices: GPUDevice[] = [];
  const wanted = helperCount(cold.length);
  for (let i = 0; i < wanted; i++) {
    const device = await createHelperDevice(rt.context);
    if (!device) break;
    devices.push(device);
  }
  // The longest kernels first, each taken by the next free device.
  const queue = [...cold].sort((a, b) => b.source.wgsl.length - a.source.wgsl.length);
  let done = 0;
  progress?.(0, queue.length);
  try {
    const compileOn = async (device: GPUDevice) => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        await dispatchOnce(device, item);
        warmed.add(item.source.key);
        progress?.(++done, cold.length);
      }
    };
    // No helper device: the main device compiles them one by one, still before the first step.
    await Promise.all(devices.length > 0 ? devices.map(compileOn) : [compileOn(rt.device)]);
  } finally {
    for (const d of devices) d.destroy();
  }
  return report(Math.max(1, devices.length));
}

async function dispatchOnce(device: GPUDevice, { source, params }: WarmItem): Promise<void> {
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code: source.wgsl, label: source.key });
  let pipeline: GPUComputePipeline;
  try {
    pipeline = await device.createComputePipelineAsync({ label: source.key, layout: "auto", compute: { module, entryPoint: source.entryPoint } });
  } catch (e) {
    await device.popErrorScope();
    throw KernelError.of(source, "compile", e instanceof Error ? e.message : String(e));
  }
  const scratch: GPUBuffer[] = [];
  const layout = pipeline.getBindGroupLayout(0);
  const entries: GPUBindGroupEntry[] = source.bindings.map((binding, index) => {
    if (binding.access === "uniform") {
      const data = packParams(source.params ?? [], (name) => params?.[name] ?? 1);
      const buffer = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(buffer, 0, data);
      scratch.push(buffer);
      return { binding: index, resource: { buffer } };
    }
    const buffer = device.createBuffer({ size: 1024, usage: GPUBufferUsage.STORAGE });
    scratch.push(buffer);
    return { binding: index, resource: { buffer } };
  });
  const bindGroup = device.createBindGroup({ layout, entries });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(1, 1, 1);
  pass.end();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  const error = await device.popErrorScope();
  for (const b of scratch) b.destroy();
  if (error) throw KernelError.of(source, "compile", error.message);
}
