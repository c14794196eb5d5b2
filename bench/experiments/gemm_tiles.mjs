// Raw-WGSL GEMM experiments behind bench/NOTES.md (not the generator): one
// variant and tiling per run, 2048³ by default, prints GFLOP/s and a sampled error.
//   node bench/experiments/gemm_tiles.mjs M,N,K VARIANT '{"TM":16,"VN":4,"WX":8,"WY":2}'
// VARIANT: block (NN register block), block4 (k unrolled, A vec4 along k),
// rowlane, ntdot, ntscalar, ntvec, ntmix, tn. Not run by tests or npm run bench.
import { buf, read, pipeline, time, rand } from "./harness.mjs";

const [M, N, K] = (process.argv[2] ?? "2048,2048,2048").split(",").map(Number);
const variant = process.argv[3] ?? "block";
const opts = JSON.parse(process.argv[4] ?? "{}");
const L = (n, f, sep = " ") => Array.from({ length: n }, (_, i) => f(i)).join(sep);

/**
 * The shared shape: bindings a, b, c; each invocation owns TM rows × VN vec4
 * columns (or TM × TN scalars for ntdot) accumulated in acc<i>.
 */
function kernel({ a, b, c, WX, WY, TM, VN, accs, step, body, stores, byRow }) {
  const code = `
@group(0) @binding(0) var<storage, read> a: array<${a}>;
@group(0) @binding(1) var<storage, read> b: array<${b}>;
@group(0) @binding(2) var<storage, read_write> c: array<${c}>;
const M = ${M}u; const N = ${N}u; const K = ${K}u;
@compute @workgroup_size(${WX}, ${WY}) fn main(@builtin(global_invocation_id) g: vec3u, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3u) {
  let n0 = ${byRow ? `wg.x * ${VN * 4}u` : `g.x * ${VN * 4}u`};
  let m0 = ${byRow ? `(wg.y * ${WX * WY}u + li) * ${TM}u` : `g.y * ${TM}u`};
  ${L(accs, (i) => `var acc${i} = vec4f(0);`)}
  for (var k = 0u; k < K; k += ${step}u) {
    ${body}
  }
  ${stores ?? L(TM, (r) => L(VN, (v) => `c[((m0 + ${r}u) * N + n0) / 4u + ${v}u] = acc${r * VN + v};`), "\n  ")}
}`;
  const wg = byRow ? [N / (VN * 4), M / (WX * WY * TM), 1] : [N / (VN * 4 * WX), M / (TM * WY), 1];
  return { code, wg };
}

const fmaRows = (TM, VN, a, b) => L(TM, (r) => L(VN, (v) => `acc${r * VN + v} = fma(vec4f(${a(r)}), ${b(v)}, acc${r * VN + v});`), "\n    ");

const gens = {
  // Each invocation owns TM rows; the workgroup shares its VN vec4 columns, so B loads are lane-uniform.
  rowlane: ({ TM = 1, VN = 4, WX = 64, WY = 1 }) =>
    kernel({ a: "vec4f", b: "vec4f", c: "vec4f", WX, WY, TM, VN, accs: TM * VN, step: 4, byRow: true,
      body: [L(TM, (r) => `let a${r} = a[((m0 + ${r}u) * K + k) / 4u];`),
        L(4, (kk) => L(VN, (v) => `let b${kk}_${v} = b[((k + ${kk}u) * N + n0) / 4u + ${v}u];`)),
        L(TM, (r) => L(VN, (v) => L(4, (kk) => `acc${r * VN + v} = fma(vec4f(a${r}[${kk}]), b${kk}_${v}, acc${r * VN + v});`)), "\n    ")].join("\n    ") }),
  // The register block: TM scalars of A and VN vec4 of B per k.
  block: ({ TM = 8, VN = 2, WX = 8, WY = 8 }) =>
    kernel({ a: "f32", b: "vec4f", c: "vec4f", WX, WY, TM, VN, accs: TM * VN, step: 1,
      body: [L(VN, (v) => `let b${v} = b[(k * N + n0) / 4u + ${v}u];`), L(TM, (r) => `let a${r} = a[(m0 + ${r}u) * K + k];`), fmaRows(TM, VN, (r) => `a${r}`, (v) => `b${v}`)].join("\n    ") }),
  // The block with k unrolled by 4 and A read as vec4 along k.
  block4: ({ TM = 8, VN = 2, WX = 8, WY = 8 }) =>
    kernel({ a: "vec4f", b: "vec4f", c: "vec4f", WX, WY, TM, VN, accs: TM * VN, step: 4,
      body: [L(TM, (r) => `let a${r} = a[((m0 + ${r}u) * K + k) / 4u];`),
        ...[0, 1, 2, 3].map((kk) => L(VN, (v) => `let b${kk}_${v} = b[((k + ${kk}u) * N + n0) / 4u + ${v}u];`) + "\n    " + fmaRows(TM, VN, (r) => `a${r}[${kk}]`, (v) => `b${kk}_${v}`))].join("\n    ") }),
  // NT with vec4 accumulators along k, reduced by a dot at the end.
  ntdot: ({ TM = 8, TN = 8, WX = 8, WY = 8 }) =>
    kernel({ a: "vec4f", b: "vec4f", c: "f32", WX, WY, TM, VN: TN / 4, accs: TM * TN, step: 4,
      body: [L(TM, (r) => `let a${r} = a[((m0 + ${r}u) * K + k) / 4u];`), L(TN, (j) => `let b${j} = b[((n0 + ${j}u) * K + k) / 4u];`),
        L(TM, (r) => L(TN, (j) => `acc${r * TN + j} = fma(a${r}, b${j}, acc${r * TN + j});`), "\n    ")].join("\n    "),
      stores: L(TM, (r) => L(TN, (j) => `c[(m0 + ${r}u) * N + n0 + ${j}u] = dot(acc${r * TN + j}, vec4f(1));`), "\n  ") }),
  // NT with B gathered as scalars per column.
  ntscalar: ({ TM = 16, VN = 4, WX = 4, WY = 8 }) =>
    kernel({ a: "f32", b: "f32", c: "vec4f", WX, WY, TM, VN, accs: TM * VN, step: 1,
      body: [L(VN, (v) => `let b${v} = vec4f(${L(4, (j) => `b[(n0 + ${v * 4 + j}u) * K + k]`, ", ")});`), L(TM, (r) => `let a${r} = a[(m0 + ${r}u) * K + k];`), fmaRows(TM, VN, (r) => `a${r}`, (v) => `b${v}`)].join("\n    ") }),
  // NT with A and B as vec4 along k, B transposed in registers.
  ntvec: ({ TM = 8, VN = 2, WX = 8, WY = 8 }) =>
    kernel({ a: "vec4f", b: "vec4f", c: "vec4f", WX, WY, TM, VN, accs: TM * VN, step: 4,
      body: [L(VN * 4, (j) => `let bq${j} = b[((n0 + ${j}u) * K + k) / 4u];`),
        ...[0, 1, 2, 3].map((kk) => L(VN, (v) => `let b${kk}_${v} = vec4f(${L(4, (x) => `bq${4 * v + x}[${kk}]`, ", ")});`)),
        L(TM, (r) => `{ let ar = a[((m0 + ${r}u) * K + k) / 4u]; ${L(4, (kk) => L(VN, (v) => `acc${r * VN + v} = fma(vec4f(ar[${kk}]), b${kk}_${v}, acc${r * VN + v});`))} }`, "\n    ")].join("\n    ") }),
  // NT with B as vec4 along k transposed in registers, A as scalars per row.
  ntmix: ({ TM = 16, VN = 4, WX = 8, WY = 2 }) =>
    kernel({ a: "f32", b: "vec4f", c: "vec4f", WX, WY, TM, VN, accs: TM * VN, step: 4,
      body: [L(VN * 4, (j) => `let bq${j} = b[((n0 + ${j}u) * K + k) / 4u];`),
        ...[0, 1, 2, 3].map((kk) => [L(VN, (v) => `let b${kk}_${v} = vec4f(${L(4, (x) => `bq${4 * v + x}[${kk}]`, ", ")});`), L(TM, (r) => `let a${r}_${kk} = a[(m0 + ${r}u) * K + k + ${kk}u];`), fmaRows(TM, VN, (r) => `a${r}_${kk}`, (v) => `b${kk}_${v}`)].join("\n    "))].join("\n    ") }),
  // TN: A stored [K, M], read as vec4 along m.
  tn: ({ TM = 16, VN = 4, WX = 4, WY = 8 }) =>
    kernel({ a: "vec4f", b: "vec4f", c: "vec4f", WX, WY, TM, VN, accs: TM * VN, step: 1,
      body: [L(VN, (v) => `let b${v} = b[(k * N + n0) / 4u + ${v}u];`), L(TM / 4, (q) => `let a${q} = a[(k * M + m0) / 4u + ${q}u];`), fmaRows(TM, VN, (r) => `a${r >> 2}[${r & 3}]`, (v) => `b${v}`)].join("\n    ") }),
};

const A = rand(M * K);
const B = rand(K * N);
const bA = buf(A);
const bB = buf(B);
const bC = buf(new Float32Array(M * N).fill(NaN));
const { code, wg } = gens[variant](opts);
if (process.env.SHOW) console.log(code);
const { p, ms } = await pipeline(code);
const t = await time(p, [bA, bB, bC], wg, 3);
const C = await read(bC, M * N);
const aAt = (i, k) => (variant === "tn" ? A[k * M + i] : A[i * K + k]);
const bAt = (k, j) => (variant.startsWith("nt") ? B[j * K + k] : B[k * N + j]);
let maxerr = 0;
for (let s = 0; s < 200; s++) {
  const i = Math.floor(Math.random() * M);
  const j = Math.floor(Math.random() * N);
  let acc = 0;
  for (let k = 0; k < K; k++) acc += aAt(i, k) * bAt(k, j);
  maxerr = Math.max(maxerr, Math.abs(acc - C[i * N + j]) / Math.sqrt(K));
}
console.log(variant, JSON.stringify(opts), `pipeline ${ms.toFixed(0)}ms`, `${t.toFixed(1)}ms`, `${((2 * M * N * K) / t / 1e6).toFixed(2)} GFLOP/s`, `err ${maxerr.toExponential(2)}`);
process.exit(0);
