// The host's seeded randomness: one small generator and one seed mixer, so
// that shuffles, inits, dropout seeds and sampling draw the same way everywhere.

/** mulberry32: uniform numbers in [0, 1) from a 32-bit seed; small, fast, and the same on every machine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from a seed and one or two positions (a stream; a step and a micro-batch), well mixed. */
export function mixSeeds(seed: number, first: number, second?: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(first + 1, 0x85ebca77) ^ (second === undefined ? 0 : Math.imul(second + 1, 0xc2b2ae3d))) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}
