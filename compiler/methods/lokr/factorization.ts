/**
 * PEFT's (LyCORIS's) factorization(dimension, factor): two factors m ≤ n with
 * m·n = dimension. A positive factor that divides the dimension is used as is;
 * otherwise the most square split with m ≤ factor (any, when factor is -1).
 */
export function factorization(dimension: number, factor = -1): [number, number] {
  if (factor > 0 && dimension % factor === 0) {
    const m = factor;
    const n = dimension / factor;
    return m > n ? [n, m] : [m, n];
  }
  const limit = factor < 0 ? dimension : factor;
  let m = 1;
  let n = dimension;
  const length = m + n;
  while (m < n) {
    let next = m + 1;
    while (dimension % next !== 0) next++;
    const nextN = dimension / next;
    if (next + nextN > length || next > limit) break;
    m = next;
    n = nextN;
  }
  return m > n ? [n, m] : [m, n];
}
