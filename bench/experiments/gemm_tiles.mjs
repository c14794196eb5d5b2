// Raw-WGSL GEMM experiments behind bench/NOTES.md (not the generator): one
// variant and tiling per run, 2048³ by default, prints GFLOP/s and a sampled error.
//   node bench/experiments/gemm_tiles.mjs M,N,K VARIANT '{"TM":16,"VN":4,"WX":8,"WY":2}'
// VARIANT: block (NN register block), block4 (k unrolled, A vec4 along k),
// rowlane, ntdot, ntscalar, ntvec, ntmix, tn. Not run by tests or npm run bench.
import { device, buf, read, pipeline, time, rand } from "./harness.mjs";
const [M, N, K] = (process.argv[2] ?? "2048,2048,2048").split(",").map(Number);
const variant = process.argv[3] ?? "rowlane";
const A = rand(M*K), B = rand(K*N);
const bA = buf(A), bB = buf(B), bC = buf(new Float32Array(M*N).fill(NaN));
const gens = {
// each invocation owns TM rows (divergent), VN vec4 cols uniform across workgroup
rowlane: ({TM=1, VN=4, WG=64}) => ({ code: `
@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4f>;
const M = ${M}u; const N = ${N}u; const K = ${K}u;
@compute @workgroup_size(${WG}) fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3u) {
  let n0 = wg.x * ${VN*4}u;
  let m0 = (wg.y * ${WG}u + li) * ${TM}u;
  ${Array.from({length:TM*VN},(_,i)=>`var acc${i} = vec4f(0);`).join(" ")}
  for (var k = 0u; k < K; k += 4u) {
    ${Array.from({length:TM},(_,r)=>`let a${r} = a[((m0 + ${r}u) * K + k) / 4u];`).join("\n    ")}
    ${[0,1,2,3].map(kk => Array.from({length:VN},(_,v)=>`let b${kk}_${v} = b[((k + ${kk}u) * N + n0) / 4u + ${v}u];`).join("\n    ")).join("\n    ")}
    ${Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>[0,1,2,3].map(kk=>`acc${r*VN+v} = fma(vec4f(a${r}[${kk}]), b${kk}_${v}, acc${r*VN+v});`).join(" ")).join("\n    ")).join("\n    ")}
  }
  ${Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>`c[((m0 + ${r}u) * N + n0) / 4u + ${v}u] = acc${r*VN+v};`).join(" ")).join("\n  ")}
}`, wg: [N/(VN*4), M/(WG*TM), 1] }),
// classic: 8x8 block per invocation (cols divergent), from DESIGN
block: ({TM=8, VN=2, WX=8, WY=8}) => ({ code: `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4f>;
const M = ${M}u; const N = ${N}u; const K = ${K}u;
@compute @workgroup_size(${WX},${WY}) fn main(@builtin(global_invocation_id) g: vec3u) {
  let n0 = g.x * ${VN*4}u;
  let m0 = g.y * ${TM}u;
  ${Array.from({length:TM*VN},(_,i)=>`var acc${i} = vec4f(0);`).join(" ")}
  for (var k = 0u; k < K; k += 1u) {
    ${Array.from({length:VN},(_,v)=>`let b${v} = b[(k * N + n0) / 4u + ${v}u];`).join(" ")}
    ${Array.from({length:TM},(_,r)=>`let a${r} = a[(m0 + ${r}u) * K + k];`).join(" ")}
    ${Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>`acc${r*VN+v} = fma(vec4f(a${r}), b${v}, acc${r*VN+v});`).join(" ")).join("\n    ")}
  }
  ${Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>`c[((m0 + ${r}u) * N + n0) / 4u + ${v}u] = acc${r*VN+v};`).join(" ")).join("\n  ")}
}`, wg: [N/(VN*4*WX), M/(TM*WY), 1] }),

// block with k unrolled by 4 and A read as vec4 along k
block4: ({TM=8, VN=2, WX=8, WY=8}) => ({ code: `
@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4f>;
const M = ${M}u; const N = ${N}u; const K = ${K}u;
@compute @workgroup_size(${WX},${WY}) fn main(@builtin(global_invocation_id) g: vec3u) {
  let n0 = g.x * ${VN*4}u;
  let m0 = g.y * ${TM}u;
  ${Array.from({length:TM*VN},(_,i)=>`var acc${i} = vec4f(0);`).join(" ")}
  for (var k = 0u; k < K; k += 4u) {
    ${Array.from({length:TM},(_,r)=>`let a${r} = a[((m0 + ${r}u) * K + k) / 4u];`).join(" ")}
    ${[0,1,2,3].map(kk => Array.from({length:VN},(_,v)=>`let b${kk}_${v} = b[((k + ${kk}u) * N + n0) / 4u + ${v}u];`).join(" ")+"\n    "+Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>`acc${r*VN+v} = fma(vec4f(a${r}[${kk}]), b${kk}_${v}, acc${r*VN+v});`).join(" ")).join("\n    ")).join("\n    ")}
  }
  ${Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>`c[((m0 + ${r}u) * N + n0) / 4u + ${v}u] = acc${r*VN+v};`).join(" ")).join("\n  ")}
}`, wg: [N/(VN*4*WX), M/(TM*WY), 1] }),

ntdot: ({TM=8, TN=8, WX=8, WY=8}) => ({ code: `
@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
const M = ${M}u; const N = ${N}u; const K = ${K}u;
@compute @workgroup_size(${WX},${WY}) fn main(@builtin(global_invocation_id) g: vec3u) {
  let n0 = g.x * ${TN}u;
  let m0 = g.y * ${TM}u;
  ${Array.from({length:TM*TN},(_,i)=>`var acc${i} = vec4f(0);`).join(" ")}
  for (var k = 0u; k < K / 4u; k += 1u) {
    ${Array.from({length:TM},(_,r)=>`let a${r} = a[(m0 + ${r}u) * (K / 4u) + k];`).join(" ")}
    ${Array.from({length:TN},(_,j)=>`let b${j} = b[(n0 + ${j}u) * (K / 4u) + k];`).join(" ")}
    ${Array.from({length:TM},(_,r)=>Array.from({length:TN},(_,j)=>`acc${r*TN+j} = fma(a${r}, b${j}, acc${r*TN+j});`).join(" ")).join("\n    ")}
  }
  ${Array.from({length:TM},(_,r)=>Array.from({length:TN},(_,j)=>`c[(m0 + ${r}u) * N + n0 + ${j}u] = dot(acc${r*TN+j}, vec4f(1));`).join(" ")).join("\n  ")}
}`, wg: [N/(TN*WX), M/(TM*WY), 1] }),
ntscalar: ({TM=16, VN=4, WX=4, WY=8}) => ({ code: `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4f>;
const M = ${M}u; const N = ${N}u; const K = ${K}u;
@compute @workgroup_size(${WX},${WY}) fn main(@builtin(global_invocation_id) g: vec3u) {
  let n0 = g.x * ${VN*4}u;
  let m0 = g.y * ${TM}u;
  ${Array.from({length:TM*VN},(_,i)=>`var acc${i} = vec4f(0);`).join(" ")}
  for (var k = 0u; k < K; k += 1u) {
    ${Array.from({length:VN},(_,v)=>`let b${v} = vec4f(${[0,1,2,3].map(j=>`b[(n0 + ${v*4+j}u) * K + k]`).join(", ")});`).join("\n    ")}
    ${Array.from({length:TM},(_,r)=>`let a${r} = a[(m0 + ${r}u) * K + k];`).join(" ")}
    ${Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>`acc${r*VN+v} = fma(vec4f(a${r}), b${v}, acc${r*VN+v});`).join(" ")).join("\n    ")}
  }
  ${Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>`c[((m0 + ${r}u) * N + n0) / 4u + ${v}u] = acc${r*VN+v};`).join(" ")).join("\n  ")}
}`, wg: [N/(VN*4*WX), M/(TM*WY), 1] }),

ntvec: ({TM=8, VN=2, WX=8, WY=8}) => ({ code: `
@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4f>;
const M = ${M}u; const N = ${N}u; const K = ${K}u;
@compute @workgroup_size(${WX},${WY}) fn main(@builtin(global_invocation_id) g: vec3u) {
  let n0 = g.x * ${VN*4}u;
  let m0 = g.y * ${TM}u;
  ${Array.from({length:TM*VN},(_,i)=>`var acc${i} = vec4f(0);`).join(" ")}
  for (var k = 0u; k < K / 4u; k += 1u) {
    ${Array.from({length:VN*4},(_,j)=>`let b${j} = b[(n0 + ${j}u) * (K / 4u) + k];`).join(" ")}
    ${[0,1,2,3].map(kk=>Array.from({length:VN},(_,v)=>`let bt${kk}_${v} = vec4f(b${4*v}[${kk}], b${4*v+1}[${kk}], b${4*v+2}[${kk}], b${4*v+3}[${kk}]);`).join(" ")).join("\n    ")}
    ${Array.from({length:TM},(_,r)=>`{ let a = a[(m0 + ${r}u) * (K / 4u) + k]; ` + [0,1,2,3].map(kk=>Array.from({length:VN},(_,v)=>`acc${r*VN+v} = fma(vec4f(a[${kk}]), bt${kk}_${v}, acc${r*VN+v});`).join(" ")).join(" ") + "}").join("\n    ")}
  }
  ${Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>`c[((m0 + ${r}u) * N + n0) / 4u + ${v}u] = acc${r*VN+v};`).join(" ")).join("\n  ")}
}`, wg: [N/(VN*4*WX), M/(TM*WY), 1] }),

tn: ({TM=16, VN=4, WX=4, WY=8}) => ({ code: `
@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4f>;
const M = ${M}u; const N = ${N}u; const K = ${K}u;
@compute @workgroup_size(${WX},${WY}) fn main(@builtin(global_invocation_id) g: vec3u) {
  let n0 = g.x * ${VN*4}u;
  let m0 = g.y * ${TM}u;
  ${Array.from({length:TM*VN},(_,i)=>`var acc${i} = vec4f(0);`).join(" ")}
  for (var k = 0u; k < K; k += 1u) {
    ${Array.from({length:VN},(_,v)=>`let b${v} = b[(k * N + n0) / 4u + ${v}u];`).join(" ")}
    ${Array.from({length:TM/4},(_,q)=>`let a${q} = a[(k * M + m0) / 4u + ${q}u];`).join(" ")}
    ${Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>`acc${r*VN+v} = fma(vec4f(a${r>>2}[${r&3}]), b${v}, acc${r*VN+v});`).join(" ")).join("\n    ")}
  }
  ${Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>`c[((m0 + ${r}u) * N + n0) / 4u + ${v}u] = acc${r*VN+v};`).join(" ")).join("\n  ")}
}`, wg: [N/(VN*4*WX), M/(TM*WY), 1] }),

ntmix: ({TM=16, VN=4, WX=8, WY=2}) => ({ code: `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4f>;
const M = ${M}u; const N = ${N}u; const K = ${K}u;
@compute @workgroup_size(${WX},${WY}) fn main(@builtin(global_invocation_id) g: vec3u) {
  let n0 = g.x * ${VN*4}u;
  let m0 = g.y * ${TM}u;
  ${Array.from({length:TM*VN},(_,i)=>`var acc${i} = vec4f(0);`).join(" ")}
  for (var k = 0u; k < K; k += 4u) {
    ${Array.from({length:VN*4},(_,j)=>`let bq${j} = b[((n0 + ${j}u) * K + k) / 4u];`).join(" ")}
    ${[0,1,2,3].map(kk => Array.from({length:VN},(_,v)=>`let b${kk}_${v} = vec4f(bq${4*v}[${kk}], bq${4*v+1}[${kk}], bq${4*v+2}[${kk}], bq${4*v+3}[${kk}]);`).join(" ") + "\n    " + Array.from({length:TM},(_,r)=>`let a${r}_${kk} = a[(m0 + ${r}u) * K + k + ${kk}u];`).join(" ") + "\n    " + Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>`acc${r*VN+v} = fma(vec4f(a${r}_${kk}), b${kk}_${v}, acc${r*VN+v});`).join(" ")).join("\n    ")).join("\n    ")}
  }
  ${Array.from({length:TM},(_,r)=>Array.from({length:VN},(_,v)=>`c[((m0 + ${r}u) * N + n0) / 4u + ${v}u] = acc${r*VN+v};`).join(" ")).join("\n  ")}
}`, wg: [N/(VN*4*WX), M/(TM*WY), 1] }),
};
const opts = JSON.parse(process.argv[4] ?? "{}");
const { code, wg } = gens[variant](opts);
if (process.env.SHOW) console.log(code);
const { p, ms } = await pipeline(code);
const t = await time(p, [bA, bB, bC], wg, 3);
const C = await read(bC, M*N);
let maxerr = 0;
for (let s = 0; s < 200; s++) { const i = Math.floor(Math.random()*M), j = Math.floor(Math.random()*N); let acc = 0; for (let k=0;k<K;k++) acc += (variant==='tn' ? A[k*M+i] : A[i*K+k])*(variant.startsWith('nt') ? B[j*K+k] : B[k*N+j]) * 1; maxerr = Math.max(maxerr, Math.abs(acc - C[i*N+j]) / Math.sqrt(K)); }
console.log(variant, JSON.stringify(opts), `compile ${ms.toFixed(0)}ms`, `${t.toFixed(1)}ms`, `${(2*M*N*K/t/1e6).toFixed(2)} GFLOP/s`, `err ${maxerr.toExponential(2)}`);
process.exit(0);
