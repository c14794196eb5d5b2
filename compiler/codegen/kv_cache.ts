// Appending a run's keys (or values) to a KV cache: each token row goes to
// its sequence's slot at the token's position, so sequences of one batch can
// stand at different positions, and padding rows (position −1) write nothing.
import { ceilDiv, renderKernel } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

export interface KvAppendShape {
  /** Sequences in the batch. */
  batch: number;
  /** Tokens per sequence in one run. */
  T: number;
  /** Floats per token: kv heads × head_dim. */
  width: number;
  /** Positions the cache holds per sequence. */
  capacity: number;
}

const WG = 64;

/** Tensors: x [batch·T, width], positions (i32) [batch·T] → cache [batch, capacity, width] (rows at the positions). */
export function kvAppend(shape: KvAppendShape, _device: DeviceProfile): KernelInstance {
  const rows = shape.batch * shape.T;
  if (rows > 65535) throw new Error(`kv append: ${rows} rows in one run`);
  const kernel = renderKernel({
    family: "kv_cache",
    template: "kv_append.wgsl.hbs",
    variant: "append",
    reason: "one invocation per element of the run's rows",
    spec: { ...shape },
    view: { ...shape, rows, WG },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "x", access: "read", type: "f32" },
      { name: "positions", access: "read", type: "i32" },
      { name: "cache", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(shape.width, WG), rows, 1] };
}
