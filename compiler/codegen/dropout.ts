// Dropout by a counter-based mask (no mask buffer), forward and backward.
import { createHash } from "node:crypto";
import { ceilDiv, renderKernel, wgslF32 } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

export interface DropoutShape {
  count: number;
  p: number;
  /** Tells apart the masks of different sites in the same step. */
  salt: number;
  backward?: boolean;
  /** Backward only: add into out. */
  accumulate?: boolean;
}

const WG = 64;

/** A site's own stream of mask draws: a hash of its name (method-prefixed path, e.g. "vera:model.layers.0.q_proj"). */
export function dropoutSalt(site: string): number {
  return createHash("sha256").update(site).digest().readUInt32LE(0);
}

/** The run-time params every training-time mask reads: the micro-batch's seed, and whether it trains (0: identity). */
export const DROPOUT_PARAMS = { seed: { scalar: "dropoutSeed" }, training: { scalar: "training" } } as const;

/**
 * Tensors: x → out. Params: seed (u32, per micro-batch), training (u32: 0 in
 * evaluation, when dropout is the identity); the salt is the instance's own.
 */
export function dropout(shape: DropoutShape, _device: DeviceProfile): KernelInstance {
  const groups = ceilDiv(shape.count, WG);
  const gx = Math.min(groups, 65535);
  const spec = { count: shape.count, p: shape.p, backward: shape.backward ?? false, accumulate: shape.accumulate ?? false };
  const kernel = renderKernel({
    family: "dropout",
    template: "dropout.wgsl.hbs",
    variant: spec.backward ? (spec.accumulate ? "backward_accumulate" : "backward") : "forward",
    reason: "one invocation per element, mask from a hash of the seed and index",
    spec,
    view: { ...spec, WG, gx, p: wgslF32(shape.p), scale: wgslF32(1 / (1 - shape.p)) },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "x", access: "read", type: "f32" },
      { name: "out", access: "read_write", type: "f32" },
      { name: "params", access: "uniform" },
    ],
    params: [
      { name: "seed", type: "u32" },
      { name: "training", type: "u32" },
      { name: "salt", type: "u32" },
    ],
  });
  return { kernel, dispatch: [gx, ceilDiv(groups, gx), 1], params: { salt: shape.salt >>> 0 } };
}
