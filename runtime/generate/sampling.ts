// Choosing the next token from a row of logits on the host: greedy (argmax,
// first of equal maxima, as torch.argmax) when the temperature is 0,
// otherwise temperature, top-k, then top-p (nucleus) sampling, in the order of
// transformers' TemperatureLogitsWarper, TopKLogitsWarper and TopPLogitsWarper,
// drawn from a seeded generator.
import { mixSeeds, mulberry32 } from "../random.js";

export interface SamplingOptions {
  /** 0: greedy. */
  temperature: number;
  /** Keep the most probable tokens whose probabilities sum to at least this (1: all). */
  topP: number;
  /** Keep only the k most probable tokens first (0 or absent: all). */
  topK?: number;
}

/**
 * A generator of uniform numbers in [0, 1) for one sequence: mulberry32
 * seeded from (seed, stream), so that each prompt has its own stream and the
 * same seed gives the same text however the prompts are batched.
 */
export function samplingRng(seed: number, stream: number): () => number {
  return mulberry32(mixSeeds(seed, stream));
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** The k-th largest of the values (1-based), by quickselect: O(n) expected, the values left as they were. */
function kthLargest(values: ArrayLike<number>, k: number): number {
  const a = Float64Array.from(values);
  let lo = 0;
  let hi = a.length - 1;
  const want = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else break;
  }
  return a[want]!;
}

/** The next token of one sequence. */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, random: () => number): number {
  if (options.temperature <= 0) return argmax(logits);
  const n = logits.length;
  // Top-k first, as transformers: every token at least as likely as the k-th (ties with it kept),
  // found in one pass, so that only they are sorted and exponentiated.
  const k = options.topK && options.topK > 0 && options.topK < n ? options.topK : 0;
  const threshold = k > 0 ? kthLargest(logits, k) : Number.NEGATIVE_INFINITY;
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (logits[i]! >= threshold) order.push(i);
  order.sort((a, b) => logits[b]! - logits[a]! || a - b);
  const top = logits[order[0]!]! / options.temperature;
  // Probabilities in float64, largest first, over the candidates.
  const p = new Float64Array(order.length);
  let sum = 0;
  for (let j = 0; j < order.length; j++) {
    p[j] = Math.exp(logits[order[j]!]! / options.temperature - top);
    sum += p[j]!;
  }
  // Then the smallest prefix whose mass reaches top_p (at least one token).
  let kept = order.length;
  if (options.topP < 1) {
    let mass = 0;
    for (let j = 0; j < order.length; j++) {
      mass += p[j]! / sum;
      if (mass >= options.topP) {
        kept = j + 1;
        break;
      }
    }
  }
  let keptSum = 0;
  for (let j = 0; j < kept; j++) keptSum += p[j]!;
  let u = random() * keptSum;
  for (let j = 0; j < kept; j++) {
    u -= p[j]!;
    if (u < 0) return order[j]!;
  }
  return order[kept - 1]!;
}
