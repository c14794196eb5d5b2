// The one way tests get a GPU device. Without an adapter the test fails with
// the diagnosis: a test that needs the GPU is never skipped.
import { acquireDevice, NoAdapterError, type GpuContext } from "../../runtime/device.js";

export async function testDevice(): Promise<GpuContext> {
  try {
    return await acquireDevice();
  } catch (e) {
    if (e instanceof NoAdapterError) {
      throw new Error(
        `no WebGPU adapter: tests that need the GPU cannot run.\n  ${e.reasons.join("\n  ")}\n  fix: ${e.fix.join("\n  ")}\n  (./setup.sh installs the driver on Debian 12)`,
      );
    }
    throw e;
  }
}
