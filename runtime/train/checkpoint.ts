// Training checkpoints: a directory per step, written under a temporary name
// and renamed into place, so that a kill at any moment leaves only complete
// checkpoints. The data order, dropout masks and schedule are functions of the
// step and seed, so parameters, AdamW moments and the step are all a resume needs.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeDirectoryAtomic } from "../files/atomic.js";
import { SafetensorsFile, readTensorBytes, toFloat32, writeSafetensorsStreaming } from "../files/safetensors.js";

export const CHECKPOINT_VERSION = 1;

export interface CheckpointState {
  version: typeof CHECKPOINT_VERSION;
  /** Optimizer steps completed. */
  step: number;
  /** The bundle this run trains: a checkpoint of another bundle does not resume it. */
  bundle: string;
  seed: number;
}

export interface CheckpointTensors {
  /** By name: trained parameters, and AdamW's first and second moments. */
  params: Map<string, Float32Array>;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
}

const STATE = "state.json";
const TENSORS = "tensors.safetensors";
const NAME = /^step-(\d{8})$/;

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, "0")}`;
}

export function writeCheckpoint(root: string, state: CheckpointState, tensors: CheckpointTensors, keep = 2): string {
  const path = join(root, checkpointName(state.step));
  writeDirectoryAtomic(path, "checkpoint", (tmp) => {
    // Tensor by tensor, each straight from its values: a full fine-tuning checkpoint (weights and two moments) is never held twice.
    const values = new Map<string, Float32Array>();
    for (const [prefix, from] of [["param", tensors.params], ["adam_m", tensors.m], ["adam_v", tensors.v]] as const) {
      for (const [name, data] of from) values.set(`${prefix}/${name}`, data);
    }
    const headers = [...values.keys()].map((name) => ({ name, dtype: "F32" as const, shape: tensors.shapes.get(name.slice(name.indexOf("/") + 1))! }));
    writeSafetensorsStreaming(join(tmp, TENSORS), headers, (t) => {
      const data = values.get(t.name)!;
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    });
    // Written last: a directory with state.json is complete.
    writeFileSync(join(tmp, STATE), JSON.stringify(state, null, 2) + "\n");
  });
  prune(root, keep);
  return path;
}

function steps(root: string): number[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((name) => {
    const match = NAME.exec(name);
    return match && existsSync(join(root, name, STATE)) ? [Number(match[1])] : [];
  }).sort((a, b) => b - a);
}

function prune(root: string, keep: number): void {
  for (const step of steps(root).slice(keep)) rmSync(join(root, checkpointName(step)), { recursive: true, force: true });
  // Temporary directories of an interrupted write.
  for (const name of readdirSync(root)) if (name.startsWith(".") && name.endsWith(".tmp")) rmSync(join(root, name), { recursive: true, force: true });
}

export interface LoadedCheckpoint {
  path: string;
  state: CheckpointState;
  tensors: CheckpointTensors;
}

/** The newest checkpoint that reads back whole, or undefined when there is none. */
export function latestCheckpoint(root: string): LoadedCheckpoint | undefined {
  for (const step of steps(root)) {
    const path = join(root, checkpointName(step));
    try {
      return readCheckpoint(path);
    } catch {
      // A damaged checkpoint (say, a disk filled mid-write) is passed over for an older one.
    }
  }
  return undefined;
}

export function readCheckpoint(path: string): LoadedCheckpoint {
  const state = JSON.parse(readFileSync(join(path, STATE), "utf8")) as CheckpointState;
  if (state.version !== CHECKPOINT_VERSION) throw new Error(`${path}: checkpoint version ${state.version}, expected ${CHECKPOINT_VERSION}`);
  const file = SafetensorsFile.open(join(path, TENSORS));
  const tensors: CheckpointTensors = { params: new Map(), m: new Map(), v: new Map(), shapes: new Map() };
  for (const info of file.tensors.values()) {
    const slash = info.name.indexOf("/");
    const kind = info.name.slice(0, slash);
    const name = info.name.slice(slash + 1);
    const values = toFloat32(readTensorBytes(info), info.dtype);
    if (kind === "param") {
      tensors.params.set(name, values);
      tensors.shapes.set(name, info.shape);
    } else if (kind === "adam_m") tensors.m.set(name, values);
    else if (kind === "adam_v") tensors.v.set(name, values);
  }
  return { path, state, tensors };
}
