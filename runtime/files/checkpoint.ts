// A model's weights as one name → tensor map, whether they are in one
// model.safetensors or sharded through model.safetensors.index.json.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { SafetensorsError, SafetensorsFile, readTensorBytes, toFloat32, type TensorInfo } from "./safetensors.js";

export class CheckpointError extends Error {}

export interface Checkpoint {
  dir: string;
  /** The files the weights live in, in a stable order. */
  files: string[];
  tensors: ReadonlyMap<string, TensorInfo>;
}

export const INDEX_FILE = "model.safetensors.index.json";
export const SINGLE_FILE = "model.safetensors";

/** Reads the headers of a checkpoint directory (no weights are read). */
export function openCheckpoint(dir: string): Checkpoint {
  if (!existsSync(dir)) throw new CheckpointError(`${dir}: no such directory`);
  const indexPath = join(dir, INDEX_FILE);
  if (existsSync(indexPath)) return openSharded(dir, indexPath);
  if (existsSync(join(dir, SINGLE_FILE))) return fromFiles(dir, [join(dir, SINGLE_FILE)]);
  const any = readdirSync(dir).filter((f) => f.endsWith(".safetensors")).sort();
  if (any.length > 0) return fromFiles(dir, any.map((f) => join(dir, f)));
  const bin = readdirSync(dir).find((f) => f.endsWith(".bin") || f.endsWith(".pt") || f.endsWith(".pth"));
  throw new CheckpointError(
    `${dir}: no ${SINGLE_FILE} or ${INDEX_FILE}`
      + (bin ? ` (${bin} is a PyTorch pickle, which peftc does not read: convert it to safetensors)` : ""),
  );
}

function fromFiles(dir: string, files: string[]): Checkpoint {
  const tensors = new Map<string, TensorInfo>();
  for (const file of files) {
    for (const [name, info] of SafetensorsFile.open(file).tensors) {
      const other = tensors.get(name);
      if (other) throw new CheckpointError(`tensor '${name}' is in both ${basename(other.file)} and ${basename(file)}`);
      tensors.set(name, info);
    }
  }
  return { dir, files, tensors };
}

function openSharded(dir: string, indexPath: string): Checkpoint {
  let index: { weight_map?: unknown };
  try {
    index = JSON.parse(readFileSync(indexPath, "utf8")) as { weight_map?: unknown };
  } catch (e) {
    throw new CheckpointError(`${indexPath}: not valid JSON (${(e as Error).message})`);
  }
  const map = index.weight_map;
  if (!map || typeof map !== "object" || Array.isArray(map)) throw new CheckpointError(`${indexPath}: no weight_map object`);
  const shards = new Map<string, SafetensorsFile>();
  const tensors = new Map<string, TensorInfo>();
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== "string" || shard.includes("/") || shard.includes("\\")) {
      throw new CheckpointError(`${indexPath}: weight_map entry for '${name}' is not a file name in ${dir}`);
    }
    let file = shards.get(shard);
    if (!file) {
      const path = join(dir, shard);
      if (!existsSync(path)) throw new CheckpointError(`${indexPath}: shard ${shard} (holding '${name}') is missing`);
      file = SafetensorsFile.open(path);
      shards.set(shard, file);
    }
    const info = file.tensors.get(name);
    if (!info) throw new CheckpointError(`${indexPath}: '${name}' is mapped to ${shard}, which does not contain it`);
    tensors.set(name, info);
  }
  return { dir, files: [...shards.values()].map((f) => f.path).sort(), tensors };
}

/** One tensor's values as float32, whatever its stored dtype. */
/** A tensor's bytes as the checkpoint stores them, with their dtype. */
export function readStored(checkpoint: Checkpoint, name: string): { bytes: Uint8Array; dtype: TensorInfo["dtype"] } {
  const info = checkpoint.tensors.get(name);
  if (!info) throw new CheckpointError(`${checkpoint.dir}: no tensor '${name}'`);
  return { bytes: readTensorBytes(info), dtype: info.dtype };
}

export function readFloat32(checkpoint: Checkpoint, name: string): Float32Array {
  const info = checkpoint.tensors.get(name);
  if (!info) throw new CheckpointError(`${checkpoint.dir}: no tensor '${name}'`);
  return toFloat32(readTensorBytes(info), info.dtype);
}

export { SafetensorsError };
