import { ceilDiv, renderKernel } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

/** Tensors: x [batch, rows, cols] → out [batch, cols, rows]. */
export function transpose(rows: number, cols: number, batch: number, _device: DeviceProfile): KernelInstance {
  const spec = { rows, cols, batch };
  const kernel = renderKernel({
    family: "transpose",
    template: "transpose.wgsl.hbs",
    variant: "plain",
    reason: "one invocation per element; consecutive lanes write consecutive outputs",
    spec,
    view: spec,
    workgroupSize: [8, 8, 1],
    bindings: [
      { name: "x", access: "read", type: "f32" },
      { name: "out", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(rows, 8), ceilDiv(cols, 8), batch] };
}
