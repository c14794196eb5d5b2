// Float64 reference for cross-entropy over logits [tokens, V] with Hugging
// Face's ignore index (any label outside [0, V) is ignored).

export function crossEntropy(logits: Float64Array, labels: ArrayLike<number>, V: number, gradScale: number) {
  const T = labels.length;
  const loss = new Float64Array(T);
  const dlogits = new Float64Array(T * V);
  for (let t = 0; t < T; t++) {
    const label = labels[t]!;
    if (label < 0 || label >= V) continue;
    const row = logits.subarray(t * V, (t + 1) * V);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - max);
    const lse = max + Math.log(sum);
    loss[t] = lse - row[label]!;
    for (let i = 0; i < V; i++) dlogits[t * V + i] = (Math.exp(row[i]! - lse) - (i === label ? 1 : 0)) * gradScale;
  }
  return { loss, dlogits };
}
