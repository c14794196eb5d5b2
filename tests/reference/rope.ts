// Float64 reference for rotary position embedding, Llama's rotate-half
// convention, over x [rows, heads, D] with position posOffset + (row mod T).

export function rope(
  x: Float64Array,
  rows: number,
  T: number,
  H: number,
  D: number,
  theta: number,
  posOffset = 0,
  inverse = false,
): Float64Array {
  const y = new Float64Array(x.length);
  const half = D / 2;
  for (let row = 0; row < rows; row++) {
    const pos = posOffset + (row % T);
    for (let h = 0; h < H; h++) {
      const base = (row * H + h) * D;
      for (let i = 0; i < half; i++) {
        const angle = pos * theta ** ((-2 * i) / D);
        const c = Math.cos(angle);
        const s = inverse ? -Math.sin(angle) : Math.sin(angle);
        const x1 = x[base + i]!;
        const x2 = x[base + i + half]!;
        y[base + i] = x1 * c - x2 * s;
        y[base + i + half] = x2 * c + x1 * s;
      }
    }
  }
  return y;
}
