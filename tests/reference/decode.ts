// Float64 references for the generation kernels: attention of query rows at
// given positions over a KV cache, appending to the cache, selecting rows.
import { attentionForward } from "./attention.js";

export interface CacheDims {
  batch: number;
  /** Query rows per sequence. */
  T: number;
  H: number;
  Hkv: number;
  D: number;
  capacity: number;
  scale: number;
}

/**
 * q [batch·T, H, D]; caches [batch, capacity, Hkv, D]; row r of sequence
 * floor(r / T) at positions[r] attends slots 0..positions[r]; padding (−1) gives zeros.
 * Each row is the causal reference's last query over the first p + 1 keys.
 */
export function cachedAttention(d: CacheDims, q: Float64Array, k: Float64Array, v: Float64Array, positions: ArrayLike<number>): Float64Array {
  const width = d.H * d.D;
  const kvWidth = d.Hkv * d.D;
  const out = new Float64Array(d.batch * d.T * width);
  for (let r = 0; r < d.batch * d.T; r++) {
    const p = positions[r]!;
    if (p < 0) continue;
    const b = Math.floor(r / d.T);
    const keys = k.subarray(b * d.capacity * kvWidth, (b * d.capacity + p + 1) * kvWidth);
    const values = v.subarray(b * d.capacity * kvWidth, (b * d.capacity + p + 1) * kvWidth);
    const one = attentionForward({ B: 1, Tq: 1, Tk: p + 1, H: d.H, Hkv: d.Hkv, D: d.D, scale: d.scale }, q.subarray(r * width, (r + 1) * width), keys, values);
    out.set(one.out, r * width);
  }
  return out;
}

/** The cache after appending x's rows at their positions (rows with −1 or past the end write nothing). */
export function kvAppend(cache: Float64Array, x: Float64Array, positions: ArrayLike<number>, T: number, width: number, capacity: number): Float64Array {
  const out = Float64Array.from(cache);
  for (let r = 0; r < positions.length; r++) {
    const p = positions[r]!;
    if (p < 0 || p >= capacity) continue;
    const b = Math.floor(r / T);
    out.set(x.subarray(r * width, (r + 1) * width), (b * capacity + p) * width);
  }
  return out;
}

/** out with the rows whose index equals slot replaced by x's. */
export function selectRows(out: Float64Array, x: Float64Array, index: ArrayLike<number>, slot: number, width: number): Float64Array {
  const y = Float64Array.from(out);
  for (let r = 0; r < index.length; r++) if (index[r] === slot) y.set(x.subarray(r * width, (r + 1) * width), r * width);
  return y;
}
