// Learning-rate schedules as Hugging Face's transformers defines them
// (get_constant/linear/cosine_schedule_with_warmup): the rate for optimizer
// step k (counted from 0) is lr · λ(k), with λ rising linearly from 0 over
// the warmup steps.

export type ScheduleName = "constant" | "linear" | "cosine";

export interface Schedule {
  name: ScheduleName;
  lr: number;
  warmup: number;
  steps: number;
  /** The rate the decay ends at, as a fraction of lr (0 in transformers). */
  minLrRatio: number;
}

export function learningRate(s: Schedule, step: number): number {
  if (step < s.warmup) return (s.lr * step) / Math.max(1, s.warmup);
  if (s.name === "constant") return s.lr;
  const progress = Math.min(1, (step - s.warmup) / Math.max(1, s.steps - s.warmup));
  const decay = s.name === "linear" ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return s.lr * (s.minLrRatio + (1 - s.minLrRatio) * decay);
}
