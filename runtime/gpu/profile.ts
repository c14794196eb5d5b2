// What codegen needs to know about the device, read from a live adapter.
import type { DeviceProfile } from "../../compiler/codegen/types.js";
import type { GpuContext } from "../device.js";

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software/i;

export function deviceProfile(gpu: GpuContext): DeviceProfile {
  const { vendor, architecture, device, description } = gpu.info;
  const software = SOFTWARE_ADAPTER.test(`${vendor} ${architecture} ${device} ${description}`);
  return {
    kind: software ? "cpu" : "gpu",
    shaderF16: gpu.features.includes("shader-f16"),
    subgroups: gpu.features.includes("subgroups"),
    maxWorkgroupStorage: gpu.limits.maxComputeWorkgroupStorageSize,
    maxInvocationsPerWorkgroup: gpu.limits.maxComputeInvocationsPerWorkgroup,
  };
}
