// Small constructors for the tensors methods declare.
import type { MethodTensor } from "./types.js";

/** A trained parameter the method adds, saved with the adapter. */
export function trained(name: string, shape: number[], init: string): MethodTensor {
  return { name, shape, init, trainable: true, parameter: true, saved: true };
}

/** A trained parameter that PEFT saves in another form (prompt encoders save their output). */
export function trainedUnsaved(name: string, shape: number[], init: string): MethodTensor {
  return { name, shape, init, trainable: true, parameter: true, saved: false };
}

/** A frozen buffer the method needs (not counted among PEFT's parameters). */
export function buffer(name: string, shape: number[], init: string, saved: boolean): MethodTensor {
  return { name, shape, init, trainable: false, parameter: false, saved };
}

export const KAIMING = "kaiming_uniform(a=√5): U(-1/√in, 1/√in)";
