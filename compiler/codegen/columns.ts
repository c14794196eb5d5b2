// Column-block copies between row-major matrices (splitting a fused
// projection's output, or assembling its gradient).
import { ceilDiv, renderKernel } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

export interface ColumnsShape {
  rows: number;
  width: number;
  inCols: number;
  inOffset: number;
  outCols: number;
  outOffset: number;
}

const WG = 64;

/** Tensors: x [rows, inCols] → out [rows, outCols], columns [outOffset, outOffset + width). */
export function copyColumns(shape: ColumnsShape, _device: DeviceProfile): KernelInstance {
  const gy = Math.min(shape.rows, 65535);
  const kernel = renderKernel({
    family: "columns",
    template: "columns.wgsl.hbs",
    variant: "copy",
    reason: "one invocation per element of the block",
    spec: { ...shape },
    view: { ...shape, WG, gy },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "x", access: "read", type: "f32" },
      { name: "out", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(shape.width, WG), gy, ceilDiv(shape.rows, gy)] };
}
