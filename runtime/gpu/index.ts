// The device side of kernels: one pipeline cache, buffer pool and dispatcher
// per device. Knows nothing about adapter methods or models.
import { acquireDevice, type GpuContext } from "../device.js";
import { BufferPool } from "./buffers.js";
import { Dispatcher } from "./dispatcher.js";
import { PipelineCache } from "./pipelines.js";
import { deviceProfile } from "./profile.js";
import type { DeviceProfile } from "../../compiler/codegen/types.js";

export interface GpuRuntime {
  context: GpuContext;
  device: GPUDevice;
  profile: DeviceProfile;
  pool: BufferPool;
  pipelines: PipelineCache;
  /** A new dispatcher: record steps, then submit them together. */
  dispatcher(): Dispatcher;
}

let runtime: GpuRuntime | undefined;

/** The process's kernel runtime, rebuilt if the device was released since. */
export async function acquireRuntime(): Promise<GpuRuntime> {
  const context = await acquireDevice();
  if (runtime?.context === context) return runtime;
  const { device } = context;
  const pipelines = new PipelineCache(device);
  runtime = {
    context,
    device,
    profile: deviceProfile(context),
    pool: new BufferPool(device),
    pipelines,
    dispatcher: () => new Dispatcher(device, pipelines),
  };
  return runtime;
}

export { BufferPool, Dispatcher, PipelineCache, deviceProfile };
export type { Bindable, BufferSlice } from "./buffers.js";
export { KernelError } from "./errors.js";
