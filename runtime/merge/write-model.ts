// A merged model directory: the base's files copied (config.json, tokenizer
// files, the shard index), and each of the base's safetensors files written
// again with the same tensors in the same dtypes, merged tensors replaced.
// Tensors are streamed one at a time; the directory appears whole or not at
// all.
import { copyFileSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { writeDirectoryAtomic } from "../files/atomic.js";
import type { Checkpoint } from "../files/checkpoint.js";
import { SafetensorsFile, fromFloat32, readTensorBytes, writeSafetensorsStreaming } from "../files/safetensors.js";

export interface MergedModelOutput {
  files: string[];
  /** Tensors replaced by merged values. */
  replaced: number;
}

/**
 * Writes `out` from the base checkpoint and the merged float32 values by
 * tensor name (converted to each tensor's own dtype, as PEFT's merge keeps the
 * base's dtype). `progress` is called after each file.
 */
export function writeMergedModel(checkpoint: Checkpoint, merged: ReadonlyMap<string, Float32Array>, out: string, progress: (file: string) => void = () => {}): MergedModelOutput {
  for (const name of merged.keys()) if (!checkpoint.tensors.has(name)) throw new Error(`merged tensor '${name}' is not in the base checkpoint`);
  const weightFiles = new Set(checkpoint.files.map((f) => basename(f)));
  const written: string[] = [];
  let replaced = 0;
  writeDirectoryAtomic(out, "model", (tmp) => {
    // Everything else the base directory holds travels along: config, tokenizer, index, generation config.
    for (const entry of readdirSync(checkpoint.dir)) {
      const from = join(checkpoint.dir, entry);
      if (weightFiles.has(entry) || !statSync(from).isFile() || entry.startsWith(".")) continue;
      copyFileSync(from, join(tmp, entry));
      written.push(entry);
    }
    for (const file of checkpoint.files) {
      const source = SafetensorsFile.open(file);
      const tensors = [...source.tensors.values()];
      writeSafetensorsStreaming(join(tmp, basename(file)), tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })), (t) => {
        const values = merged.get(t.name);
        if (!values) return readTensorBytes(source.tensors.get(t.name)!);
        replaced++;
        return fromFloat32(values, t.dtype);
      }, { ...source.metadata });
      written.push(basename(file));
      progress(basename(file));
    }
  });
  return { files: written.sort(), replaced };
}
