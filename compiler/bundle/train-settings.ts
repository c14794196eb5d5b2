// A spec's train block as the settings a run uses, with command-line
// overrides applied.
import type { TrainIR } from "../spec/ir.js";
import type { ScheduleName } from "../../runtime/train/schedule.js";

export interface TrainSettings {
  adapter: string;
  data: { path: string; format: "auto" | "text" | "completion" | "tokens"; eval?: string; evalSplit: number; shuffle: boolean; packing: boolean };
  seqLen: number;
  batch: number;
  gradAccum: number;
  steps: number;
  seed: number;
  maxGradNorm: number;
  logEvery: number;
  evalEvery: number;
  checkpointEvery: number;
  gradientCheckpointing: boolean;
  optimizer: { lr: number; weightDecay: number; beta1: number; beta2: number; eps: number };
  schedule: { name: ScheduleName; warmup: number; minLrRatio: number };
}

export interface TrainOverrides {
  steps?: number;
  data?: string;
}

export function trainSettings(train: TrainIR, overrides: TrainOverrides = {}): TrainSettings {
  const data = train.data as { path: string; format: TrainSettings["data"]["format"]; eval?: string; eval_split: number; shuffle: boolean; packing: boolean };
  const optimizer = train.optimizer as { lr: number; weight_decay: number; beta1: number; beta2: number; eps: number };
  const schedule = train.schedule as { name: ScheduleName; warmup: number; min_lr_ratio: number };
  return {
    adapter: train.adapter,
    data: {
      path: overrides.data ?? data.path,
      format: data.format,
      ...(data.eval !== undefined ? { eval: data.eval } : {}),
      evalSplit: data.eval_split,
      shuffle: data.shuffle,
      packing: data.packing,
    },
    seqLen: train.seq_len as number,
    batch: train.batch as number,
    gradAccum: train.grad_accum as number,
    steps: overrides.steps ?? (train.steps as number),
    seed: train.seed as number,
    maxGradNorm: train.max_grad_norm as number,
    logEvery: train.log_every as number,
    evalEvery: train.eval_every as number,
    checkpointEvery: train.checkpoint_every as number,
    gradientCheckpointing: train.gradient_checkpointing as boolean,
    optimizer: { lr: optimizer.lr, weightDecay: optimizer.weight_decay, beta1: optimizer.beta1, beta2: optimizer.beta2, eps: optimizer.eps },
    schedule: { name: schedule.name, warmup: schedule.warmup, minLrRatio: schedule.min_lr_ratio },
  };
}
