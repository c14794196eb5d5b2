// 16-bit floats (BF16 or F16, two to a u32 word as a checkpoint stores them)
// widened to f32: frozen weights kept at half the memory and widened into a
// short-lived copy just before the op that reads them. Widening is exact, so
// the op sees the numbers an f32 upload would have given it.
import { ceilDiv, renderKernel } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

export type Packed16 = "bf16" | "f16";

export interface WidenShape {
  /** The tensor as [rows, cols], row-major, packed two halves to a word (the last word's high half unused when odd). */
  rows: number;
  cols: number;
  dtype: Packed16;
  /** Write [cols, rows]: the widened copy transposed, so an A·Bᵀ product can run as the faster A·B. */
  transpose: boolean;
}

const WG = 64;

export function widen16(shape: WidenShape, _device: DeviceProfile): KernelInstance {
  const n = shape.rows * shape.cols;
  const invocations = shape.transpose ? n : ceilDiv(n, 2);
  const groups = ceilDiv(invocations, WG);
  const gx = Math.min(groups, 65535);
  const gy = ceilDiv(groups, gx);
  const kernel = renderKernel({
    family: "widen16",
    template: "widen16.wgsl.hbs",
    variant: `${shape.dtype}_${shape.transpose ? "transposed" : "plain"}`,
    reason: shape.transpose
      ? "one invocation per element, writing the transposed copy"
      : "one invocation per word: two elements",
    spec: { ...shape },
    view: { ...shape, n, gx, bf16: shape.dtype === "bf16", WG },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "x", access: "read", type: "u32" },
      { name: "out", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [gx, gy, 1] };
}
