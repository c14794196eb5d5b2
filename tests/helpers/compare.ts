// How close two arrays are, as the tests state their tolerances.

/** ‖got − want‖ / ‖want‖ (Frobenius). */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < want.length; i++) {
    diff += (got[i]! - want[i]!) ** 2;
    norm += want[i]! ** 2;
  }
  return Math.sqrt(diff / Math.max(norm, Number.MIN_VALUE));
}

/** The largest |got − want| (infinite where either is NaN) and the largest |want|. */
export function worstDifference(got: ArrayLike<number>, want: ArrayLike<number>): { worst: number; scale: number } {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(worst, d);
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return { worst, scale };
}

/** The largest |got − want| over the largest |want|. */
export function relativeMax(got: ArrayLike<number>, want: ArrayLike<number>): number {
  const { worst, scale } = worstDifference(got, want);
  return worst / scale;
}
