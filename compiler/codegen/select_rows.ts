// Row selection by adapter index: out[r, :] = x[r, :] where the index of r's
// sequence (index[r / rowsPerIndex]) equals the kernel's slot, other rows untouched. A mixed-adapter batch assembles a
// layer's output this way when its method has no fused mixed path: the base
// output first, then each adapter's output over the rows that chose it.
import { ceilDiv, renderKernel } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

export interface SelectRowsShape {
  rows: number;
  width: number;
  /** The index value whose rows are copied. */
  slot: number;
  /** Consecutive rows sharing one index entry (a sequence's tokens). */
  rowsPerIndex: number;
}

const WG = 64;

/** Tensors: x [rows, width], index (i32) [rows / rowsPerIndex] → out [rows, width] (only the selected rows are written). */
export function selectRows(shape: SelectRowsShape, _device: DeviceProfile): KernelInstance {
  const gy = Math.min(shape.rows, 65535);
  const kernel = renderKernel({
    family: "select_rows",
    template: "select_rows.wgsl.hbs",
    variant: "copy",
    reason: "one invocation per element; rows of other indices return at once",
    spec: { rows: shape.rows, width: shape.width, rowsPerIndex: shape.rowsPerIndex },
    view: { ...shape, WG, gy },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "x", access: "read", type: "f32" },
      { name: "index", access: "read", type: "i32" },
      { name: "out", access: "read_write", type: "f32" },
      { name: "params", access: "uniform" },
    ],
    // The slot is a param: one pipeline serves every adapter of a mixed batch.
    params: [{ name: "slot", type: "i32" }],
  });
  return { kernel, dispatch: [ceilDiv(shape.width, WG), gy, ceilDiv(shape.rows, gy)], params: { slot: shape.slot } };
}
