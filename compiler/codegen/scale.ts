// A matrix times a vector broadcast along its rows or its columns: the
// elementwise step of every method that scales by a learned or random vector
// (IA3's l, VeRA's λ_b and λ_d, LoKr's dropout mask), forward and backward.
import { ceilDiv, renderKernel } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

export interface ScaleShape {
  rows: number;
  cols: number;
  /** Row stride of the source (≥ cols: a left block of a wider matrix); cols when absent. */
  ld?: number;
  /** Scale row i by s[i] ("rows"), or column j by s[j] ("columns"). */
  along: "rows" | "columns";
  /** Add into out rather than overwrite it. */
  accumulate?: boolean;
}

const WG = 64;

/** Tensors: src [rows, ld], s → out [rows, cols] (=, or += when accumulating) src[:, :cols] scaled along rows or columns. */
export function scaleAlong(shape: ScaleShape, _device: DeviceProfile): KernelInstance {
  const ld = shape.ld ?? shape.cols;
  if (ld < shape.cols) throw new Error(`scale: row stride ${ld} < ${shape.cols} columns`);
  const spec = { rows: shape.rows, cols: shape.cols, ld, along: shape.along, accumulate: shape.accumulate ?? false };
  const gy = Math.min(shape.rows, 65535);
  const kernel = renderKernel({
    family: "scale",
    template: "scale_along.wgsl.hbs",
    variant: `${shape.along}${spec.accumulate ? "_accumulate" : ""}`,
    reason: "one invocation per element",
    spec,
    view: { ...spec, perRow: shape.along === "rows", WG, gy },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "src", access: "read", type: "f32" },
      { name: "s", access: "read", type: "f32" },
      { name: "out", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(shape.cols, WG), gy, ceilDiv(shape.rows, gy)] };
}
