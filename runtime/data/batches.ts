// Examples into fixed-length sequences and batches: padding (one example a
// sequence, cut to seq_len) or packing (examples end to end), in an order
// shuffled by a seeded generator, so that a seed gives the same batches on
// every run.
import { IGNORE, type Example } from "./examples.js";
import { mulberry32 } from "../random.js";

export interface Sequence {
  ids: Int32Array;
  labels: Int32Array;
}

export function toSequences(examples: Example[], seqLen: number, packing: boolean, padId: number): Sequence[] {
  const sequences: Sequence[] = [];
  if (!packing) {
    for (const e of examples) sequences.push(fixed(e.ids.slice(0, seqLen), e.labels.slice(0, seqLen), seqLen, padId));
    return sequences;
  }
  const ids: number[] = [];
  const labels: number[] = [];
  for (const e of examples) {
    ids.push(...e.ids);
    labels.push(...e.labels);
  }
  for (let at = 0; at < ids.length; at += seqLen) sequences.push(fixed(ids.slice(at, at + seqLen), labels.slice(at, at + seqLen), seqLen, padId));
  return sequences;
}

function fixed(ids: number[], labels: number[], seqLen: number, padId: number): Sequence {
  const outIds = new Int32Array(seqLen).fill(padId);
  const outLabels = new Int32Array(seqLen).fill(IGNORE);
  outIds.set(ids);
  outLabels.set(labels);
  return { ids: outIds, labels: outLabels };
}

/** Positions whose next token is predicted: labels[t + 1] !== IGNORE (and the first token too after virtual tokens). */
export function predictedTokens(sequence: Sequence, virtual = 0): number {
  let n = 0;
  for (let t = virtual > 0 ? 0 : 1; t < sequence.labels.length; t++) if (sequence.labels[t] !== IGNORE) n++;
  return n;
}

export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const random = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Held-out examples for evaluation: a seeded choice of `fraction` of them (at least one). */
export function split<T>(items: readonly T[], fraction: number, seed: number): { train: T[]; eval: T[] } {
  if (fraction <= 0) return { train: [...items], eval: [] };
  const order = shuffled(items.map((_, i) => i), seed ^ 0x5eed);
  const count = Math.max(1, Math.round(items.length * fraction));
  const held = new Set(order.slice(0, count));
  return { train: items.filter((_, i) => !held.has(i)), eval: items.filter((_, i) => held.has(i)) };
}

/**
 * The batches of a run: epoch after epoch, each a fresh seeded shuffle.
 * Batch k of the run is always the same batch, so a resumed run continues
 * exactly where it stopped.
 */
export class BatchStream {
  private order: number[] = [];
  private epoch = -1;

  constructor(private readonly sequences: Sequence[], private readonly batch: number, private readonly seed: number, private readonly shuffle: boolean) {
    if (sequences.length === 0) throw new Error("no sequences to batch");
  }

  /** The sequences of micro-batch `index` (0-based, counting from the start of training). */
  batchAt(index: number): Sequence[] {
    const out: Sequence[] = [];
    for (let i = 0; i < this.batch; i++) out.push(this.at(index * this.batch + i));
    return out;
  }

  private at(position: number): Sequence {
    const epoch = Math.floor(position / this.sequences.length);
    if (epoch !== this.epoch) {
      const indices = this.sequences.map((_, i) => i);
      this.order = this.shuffle ? shuffled(indices, this.seed + epoch * 7919) : indices;
      this.epoch = epoch;
    }
    return this.sequences[this.order[position % this.sequences.length]!]!;
  }
}

/**
 * Next-token targets of sequences of seqLen tokens, as a graph with `virtual`
 * rows before each sequence reads them: row t predicts the row after it, so
 * a prompt method's last virtual row predicts the first token (PEFT's −100
 * labels on the virtual tokens, shifted as transformers shifts them).
 */
export function targetsOf(sequences: Sequence[], seqLen: number, virtual = 0): Int32Array {
  const rows = seqLen + virtual;
  const out = new Int32Array(sequences.length * rows).fill(IGNORE);
  sequences.forEach((s, b) => {
    if (virtual > 0) out[b * rows + virtual - 1] = s.labels[0]!;
    for (let t = 0; t + 1 < seqLen; t++) out[b * rows + virtual + t] = s.labels[t + 1]!;
  });
  return out;
}

/** The token ids of sequences, one row each, after `virtual` rows of id −1 (which the prompt method fills). */
export function idsOf(sequences: Sequence[], seqLen: number, virtual = 0): Int32Array {
  const rows = seqLen + virtual;
  const out = new Int32Array(sequences.length * rows).fill(-1);
  sequences.forEach((s, b) => out.set(s.ids, b * rows + virtual));
  return out;
}
