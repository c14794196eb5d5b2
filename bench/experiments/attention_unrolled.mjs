// Raw-WGSL attention forward experiment behind bench/NOTES.md: rows unrolled
// into named values, BQ queries per invocation (T=1024, 8 heads / 2 kv heads, D=64).
//   node bench/experiments/attention_unrolled.mjs BQ
import { device, buf, read, pipeline, time, rand } from "./harness.mjs";
const T = 1024, H = 8, HKV = 2, D = 64, DV = D/4, G = H/HKV;
const BQ = Number(process.argv[2] ?? 1);
const L = (n, f) => Array.from({length:n}, (_, i) => f(i)).join("\n  ");
const code = `
@group(0) @binding(0) var<storage, read> q_in: array<vec4f>;
@group(0) @binding(1) var<storage, read> k_in: array<vec4f>;
@group(0) @binding(2) var<storage, read> v_in: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;
const TQ = ${T}u; const H = ${H}u; const HKV = ${HKV}u; const DV = ${DV}u;
@compute @workgroup_size(16) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t0 = gid.x * ${BQ}u; let h = gid.y; let kvh = h / ${G}u;
  if (t0 >= TQ) { return; }
  ${L(BQ, i => `let qb${i} = (min(t0 + ${i}u, TQ - 1u) * H + h) * DV;\n  ` + L(DV, d => `let q${i}_${d} = q_in[qb${i} + ${d}u] * 0.125;`) + "\n  " + L(DV, d => `var o${i}_${d} = vec4f(0.0);`) + `\n  var m${i} = -3.0e38; var l${i} = 0.0;`)}
  let last = min(t0 + ${BQ-1}u, TQ - 1u);
  for (var j = 0u; j <= last; j++) {
    let kb = (j * HKV + kvh) * DV;
    ${L(DV, d => `let k${d} = k_in[kb + ${d}u];`)}
    ${L(DV, d => `let v${d} = v_in[kb + ${d}u];`)}
    ${L(BQ, i => `if (j <= t0 + ${i}u) {
      let s = ${Array.from({length: DV}, (_, d) => `dot(q${i}_${d}, k${d})`).join(" + ")};
      let mNew = max(m${i}, s); let c = exp(m${i} - mNew); let p = exp(s - mNew);
      l${i} = l${i} * c + p; m${i} = mNew;
      ${L(DV, d => `o${i}_${d} = o${i}_${d} * c + p * v${d};`)}
    }`)}
  }
  ${L(BQ, i => `if (t0 + ${i}u < TQ) {\n  let inv = 1.0 / l${i};\n  ` + L(DV, d => `out[qb${i} + ${d}u] = o${i}_${d} * inv;`) + "}")}
}`;
const q = rand(T*H*D), k = rand(T*HKV*D), v = rand(T*HKV*D);
const bq = buf(q), bk = buf(k), bv = buf(v), bo = buf(new Float32Array(T*H*D).fill(NaN));
const { p } = await pipeline(code);
const t = await time(p, [bq, bk, bv, bo], [Math.ceil(T / (16*BQ)), H, 1], 3);
const O = await read(bo, T*H*D);
// check one row
const t_ = 700, h_ = 5, kv = Math.floor(h_/G);
let s = [], mx = -Infinity;
for (let j = 0; j <= t_; j++) { let a = 0; for (let d = 0; d < D; d++) a += q[(t_*H+h_)*D+d]*k[(j*HKV+kv)*D+d]; a *= 0.125; s.push(a); mx = Math.max(mx, a); }
let sum = 0; s = s.map(x => { const e = Math.exp(x - mx); sum += e; return e; });
let err = 0; for (let d = 0; d < D; d++) { let o = 0; for (let j = 0; j <= t_; j++) o += s[j]*v[(j*HKV+kv)*D+d]; o /= sum; err = Math.max(err, Math.abs(o - O[(t_*H+h_)*D+d])); }
const flops = 2*2*(T*(T+1)/2)*D*H;
console.log("BQ", BQ, t.toFixed(1), "ms", (flops/t/1e6).toFixed(1), "GFLOP/s err", err.toExponential(2));
process.exit(0);
