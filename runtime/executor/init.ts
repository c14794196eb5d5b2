// Starting values of trained and frozen adapter tensors, from a generator
// seeded by the run's seed and the tensor's name: the same seed gives the
// same values on every machine, whatever order tensors are made in.
import { createHash } from "node:crypto";
import type { InitSpec } from "../../compiler/graph/types.js";
import { torchUniformFloat32 } from "./torch-random.js";
import { mulberry32 } from "../random.js";

function seedOf(seed: number, name: string): number {
  return createHash("sha256").update(`${seed}:${name}`).digest().readUInt32LE(0);
}

export function initialValues(spec: InitSpec, size: number, seed: number, name: string, weight: (tensor: string) => Float32Array): Float32Array {
  const out = new Float32Array(size);
  switch (spec.kind) {
    case "zeros":
      return out;
    case "ones":
      return out.fill(1);
    case "constant":
      return out.fill(spec.value);
    case "copy": {
      const source = weight(spec.from);
      if (source.length !== size) throw new Error(`${name}: copying ${spec.from} (${source.length} values) into ${size}`);
      out.set(source);
      return out;
    }
    case "uniform": {
      const random = mulberry32(seedOf(seed, name));
      for (let i = 0; i < size; i++) out[i] = (random() * 2 - 1) * spec.bound;
      return out;
    }
    case "normal": {
      const random = mulberry32(seedOf(seed, name));
      for (let i = 0; i < size; i += 2) {
        const u = Math.max(random(), 1e-12);
        const v = random();
        const r = Math.sqrt(-2 * Math.log(u)) * spec.std;
        out[i] = (spec.mean ?? 0) + r * Math.cos(2 * Math.PI * v);
        if (i + 1 < size) out[i + 1] = (spec.mean ?? 0) + r * Math.sin(2 * Math.PI * v);
      }
      return out;
    }
    case "torch_uniform":
      // Its own seed, not the run's: the values must be the ones PyTorch makes from it.
      return torchUniformFloat32(spec.seed, spec.bound, size, spec.skip ?? 0);
    case "computed":
      throw new Error(`${name} is computed on the GPU by the init phase`);
  }
}
