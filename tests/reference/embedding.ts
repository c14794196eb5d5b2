// Float64 references for the embedding lookup and its gradient.

/** out[t] = table[ids[t]], a zero row for an id outside the table. */
export function embeddingForward(ids: ArrayLike<number>, table: Float64Array, vocab: number, D: number): Float64Array {
  const out = new Float64Array(ids.length * D);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t]!;
    if (id >= 0 && id < vocab) out.set(table.subarray(id * D, (id + 1) * D), t * D);
  }
  return out;
}

/** dtable + Σ over tokens of dout[t] into row ids[t]. */
export function embeddingBackward(ids: ArrayLike<number>, dout: Float64Array, dtable: Float64Array, vocab: number, D: number): Float64Array {
  const result = Float64Array.from(dtable);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t]!;
    if (id < 0 || id >= vocab) continue;
    for (let c = 0; c < D; c++) result[id * D + c]! += dout[t * D + c]!;
  }
  return result;
}
