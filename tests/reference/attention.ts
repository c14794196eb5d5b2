// Float64 reference for causal softmax attention with grouped-query heads.
// q [B, Tq, H, D]; k, v [B, Tk, Hkv, D]; query t sees keys j ≤ t + Tk − Tq;
// head h uses kv head floor(h / (H / Hkv)), as Hugging Face's repeat_kv.

export interface AttnDims {
  B: number;
  Tq: number;
  Tk: number;
  H: number;
  Hkv: number;
  D: number;
  scale: number;
}

const qi = (d: AttnDims, b: number, t: number, h: number) => ((b * d.Tq + t) * d.H + h) * d.D;
const ki = (d: AttnDims, b: number, j: number, h: number) => ((b * d.Tk + j) * d.Hkv + h) * d.D;

function probabilities(d: AttnDims, q: Float64Array, k: Float64Array, b: number, h: number, t: number) {
  const kvh = Math.floor(h / (d.H / d.Hkv));
  const last = t + d.Tk - d.Tq;
  const s = new Float64Array(last + 1);
  for (let j = 0; j <= last; j++) {
    let dot = 0;
    for (let x = 0; x < d.D; x++) dot += q[qi(d, b, t, h) + x]! * k[ki(d, b, j, kvh) + x]!;
    s[j] = dot * d.scale;
  }
  const max = Math.max(...s);
  let sum = 0;
  for (const v of s) sum += Math.exp(v - max);
  return { p: s.map((v) => Math.exp(v - max) / sum), lse: max + Math.log(sum), kvh };
}

export function attentionForward(d: AttnDims, q: Float64Array, k: Float64Array, v: Float64Array) {
  const out = new Float64Array(d.B * d.Tq * d.H * d.D);
  const lse = new Float64Array(d.B * d.H * d.Tq);
  for (let b = 0; b < d.B; b++)
    for (let h = 0; h < d.H; h++)
      for (let t = 0; t < d.Tq; t++) {
        const { p, lse: l, kvh } = probabilities(d, q, k, b, h, t);
        lse[(b * d.H + h) * d.Tq + t] = l;
        for (let j = 0; j < p.length; j++)
          for (let x = 0; x < d.D; x++) out[qi(d, b, t, h) + x]! += p[j]! * v[ki(d, b, j, kvh) + x]!;
      }
  return { out, lse };
}

export function attentionBackward(d: AttnDims, q: Float64Array, k: Float64Array, v: Float64Array, dout: Float64Array) {
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  for (let b = 0; b < d.B; b++)
    for (let h = 0; h < d.H; h++)
      for (let t = 0; t < d.Tq; t++) {
        const { p, kvh } = probabilities(d, q, k, b, h, t);
        const dp = new Float64Array(p.length);
        for (let j = 0; j < p.length; j++) {
          for (let x = 0; x < d.D; x++) {
            dp[j]! += dout[qi(d, b, t, h) + x]! * v[ki(d, b, j, kvh) + x]!;
            dv[ki(d, b, j, kvh) + x]! += p[j]! * dout[qi(d, b, t, h) + x]!;
          }
        }
        let pdp = 0;
        for (let j = 0; j < p.length; j++) pdp += p[j]! * dp[j]!;
        for (let j = 0; j < p.length; j++) {
          const ds = p[j]! * (dp[j]! - pdp) * d.scale;
          for (let x = 0; x < d.D; x++) {
            dq[qi(d, b, t, h) + x]! += ds * k[ki(d, b, j, kvh) + x]!;
            dk[ki(d, b, j, kvh) + x]! += ds * q[qi(d, b, t, h) + x]!;
          }
        }
      }
  return { dq, dk, dv };
}
