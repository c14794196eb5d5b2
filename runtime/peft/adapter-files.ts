// Adapters on disk in Hugging Face PEFT's layout: adapter_config.json and
// adapter_model.safetensors, the adapter named "default" at the top and any
// others in subfolders named after them (as PeftModel.save_pretrained does).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeDirectoryAtomic } from "../files/atomic.js";
import { SafetensorsError, SafetensorsFile, encodeSafetensors, fromFloat32, readTensorBytes, toFloat32, type Dtype } from "../files/safetensors.js";

export const CONFIG_FILE = "adapter_config.json";
export const WEIGHTS_FILE = "adapter_model.safetensors";

export class AdapterFileError extends Error {}

export interface AdapterToWrite {
  name: string;
  /**
   * adapter_config.json's text, as PEFT writes it; null for adapters PEFT has
   * no method for (full, bitfit): their tensors alone, under PEFT's
   * modules_to_save names (base_model.model.<module>.weight).
   */
  config: string | null;
  /** Saved tensors by PEFT key. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/**
 * Writes adapters into `dir` (replacing it whole, atomically). One adapter
 * goes at the top whatever its name, so the directory loads as is; with
 * several, "default" goes at the top and the others into subfolders.
 */
export function writeAdapters(dir: string, adapters: AdapterToWrite[], dtype: Dtype = "F32"): void {
  writeDirectoryAtomic(dir, "adapter", (tmp) => {
    for (const adapter of adapters) {
      const atTop = adapters.length === 1 || adapter.name === "default";
      const target = atTop ? tmp : join(tmp, adapter.name);
      if (!atTop) mkdirSync(target, { recursive: true });
      if (adapter.config !== null) writeFileSync(join(target, CONFIG_FILE), adapter.config);
      const tensors = [...adapter.tensors].map(([name, t]) => ({ name, dtype, shape: t.shape, data: fromFloat32(t.data, dtype) }));
      writeFileSync(join(target, WEIGHTS_FILE), encodeSafetensors(tensors));
    }
  });
}

export interface AdapterOnDisk {
  name: string;
  dir: string;
  configText: string;
  weights?: SafetensorsFile;
}

/** The adapters in a PEFT adapter directory: the top one ("default") and any in subfolders. */
export function findAdapters(dir: string): AdapterOnDisk[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new AdapterFileError(`${dir}: no such adapter directory`);
  const found: AdapterOnDisk[] = [];
  const read = (name: string, folder: string) => {
    const configPath = join(folder, CONFIG_FILE);
    const weightsPath = join(folder, WEIGHTS_FILE);
    let weights: SafetensorsFile | undefined;
    if (existsSync(weightsPath)) {
      try {
        weights = SafetensorsFile.open(weightsPath);
      } catch (e) {
        if (e instanceof SafetensorsError) throw new AdapterFileError(e.message);
        throw e;
      }
    } else if (existsSync(join(folder, "adapter_model.bin"))) {
      throw new AdapterFileError(`${folder} holds adapter_model.bin, a PyTorch pickle peftc does not read: save the adapter with safe_serialization=True`);
    }
    found.push({ name, dir: folder, configText: readFileSync(configPath, "utf8"), weights });
  };
  if (existsSync(join(dir, CONFIG_FILE))) read("default", dir);
  for (const entry of readdirSync(dir).sort()) {
    const sub = join(dir, entry);
    if (statSync(sub).isDirectory() && existsSync(join(sub, CONFIG_FILE))) read(entry, sub);
  }
  if (found.length === 0) throw new AdapterFileError(`${dir} holds no ${CONFIG_FILE}: it is not a PEFT adapter directory`);
  return found;
}

/** One saved tensor's values as float32. */
export function readSavedTensor(file: SafetensorsFile, key: string): Float32Array {
  const info = file.tensors.get(key);
  if (!info) throw new AdapterFileError(`${file.path}: no tensor '${key}'`);
  return toFloat32(readTensorBytes(info), info.dtype);
}
