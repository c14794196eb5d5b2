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

/** What an init may read besides the seed: base tensors, and the model's tokenizer (for a text init). */
export interface InitSources {
  weight(tensor: string): Float32Array;
  /** Token ids of a text as the model's tokenizer makes them, special tokens included (transformers' tokenizer(text)). */
  tokenize?(text: string): number[];
}

/**
 * PEFT's prompt inits: the ids of `text` repeated or cut to `rows`, or `rows`
 * ids drawn from the vocabulary (by peftc's seeded generator, not torch's).
 */
export function embeddingRowIds(spec: { text?: string; sample?: boolean }, rows: number, vocab: number, random: () => number, tokenize?: (text: string) => number[]): number[] {
  if (spec.sample) return Array.from({ length: rows }, () => Math.floor(random() * vocab));
  if (spec.text === undefined) throw new Error("an embedding_rows init needs text or sample");
  if (!tokenize) throw new Error("a text init needs the model's tokenizer");
  const ids = tokenize(spec.text);
  if (ids.length === 0) throw new Error(`the init text ${JSON.stringify(spec.text)} has no tokens`);
  const out: number[] = [];
  while (out.length < rows) out.push(...ids);
  return out.slice(0, rows);
}

export function initialValues(spec: InitSpec, size: number, seed: number, name: string, sources: InitSources | ((tensor: string) => Float32Array)): Float32Array {
  const { weight, tokenize } = typeof sources === "function" ? { weight: sources, tokenize: undefined } : sources;
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
    case "embedding_rows": {
      const table = weight(spec.from);
      const rows = size / spec.dim;
      const vocab = table.length / spec.dim;
      if (!Number.isInteger(rows) || !Number.isInteger(vocab)) throw new Error(`${name}: rows of ${spec.from} (${table.length} values) are not ${spec.dim} wide`);
      const ids = embeddingRowIds(spec, rows, vocab, mulberry32(seedOf(seed, name)), tokenize);
      ids.forEach((id, r) => {
        if (id < 0 || id >= vocab) throw new Error(`${name}: token id ${id} is outside ${spec.from}'s ${vocab} rows`);
        out.set(table.subarray(id * spec.dim, (id + 1) * spec.dim), r * spec.dim);
      });
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
