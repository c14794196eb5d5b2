/**
 * PEFT's (LyCORIS's) factorization(dimension, factor): two factors with
 * m·n = dimension. A positive factor that divides the dimension is returned
 * first, as is (PEFT does not reorder it: 16 with factor 8 is (8, 2));
 * otherwise the most square split with m ≤ n and m ≤ factor.
 */
export function factorization(dimension: number, factor = -1): [number, number] {
  if (factor > 0 && dimension % factor === 0) return [factor, dimension / factor];
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
