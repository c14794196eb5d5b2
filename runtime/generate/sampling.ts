// Choosing the next token from a row of logits on the host: greedy (argmax,
// first of equal maxima, as torch.argmax) when the temperature is 0,
// otherwise temperature, top-k, then top-p (nucleus) sampling, in the order of
// transformers' TemperatureLogitsWarper, TopKLogitsWarper and TopPLogitsWarper,
// drawn from a seeded generator.

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
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  let a = (h ^ (h >>> 15)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** The next token of one sequence. */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, random: () => number): number {
  if (options.temperature <= 0) return argmax(logits);
  const n = logits.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  const top = logits[order[0]!]! / options.temperature;
  // Probabilities in float64, largest first.
  const p = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    p[k] = Math.exp(logits[order[k]!]! / options.temperature - top);
    sum += p[k]!;
  }
  // The k most probable (and any tied with the k-th, as transformers keeps them), renormalised;
  // then the smallest prefix whose mass reaches top_p (at least one token).
  let kept = options.topK && options.topK > 0 ? Math.min(options.topK, n) : n;
  while (kept < n && p[kept] === p[kept - 1]) kept++;
  if (kept < n) {
    sum = 0;
    for (let k = 0; k < kept; k++) sum += p[k]!;
  }
  if (options.topP < 1) {
    const candidates = kept;
    let mass = 0;
    for (let k = 0; k < candidates; k++) {
      mass += p[k]! / sum;
      if (mass >= options.topP) {
        kept = k + 1;
        break;
      }
    }
  }
  let keptSum = 0;
  for (let k = 0; k < kept; k++) keptSum += p[k]!;
  let u = random() * keptSum;
  for (let k = 0; k < kept; k++) {
    u -= p[k]!;
    if (u < 0) return order[k]!;
  }
  return order[kept - 1]!;
}
