// lavapipe's arithmetic ceiling: independent vec4 FMA chains in registers, no
// memory traffic in the loop. node bench/experiments/fma_peak.mjs [CHAINS]
import { buf, pipeline, time } from "./harness.mjs";

const chains = Number(process.argv[2] ?? 16);
const iters = 4096;
const invocations = 64 * 1024;
const L = (n, f, sep = "\n  ") => Array.from({ length: n }, (_, i) => f(i)).join(sep);
const code = `
@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let x = vec4f(f32(g.x) * 1e-7);
  ${L(chains, (i) => `var a${i} = x + vec4f(${i}.0);`)}
  for (var k = 0u; k < ${iters}u; k++) {
    ${L(chains, (i) => `a${i} = fma(a${i}, vec4f(0.9999), vec4f(1e-7));`, "\n    ")}
  }
  out[g.x] = ${L(chains, (i) => `a${i}`, " + ")};
}`;
const { p } = await pipeline(code);
const t = await time(p, [buf(new Float32Array(invocations * 4))], [invocations / 64, 1, 1], 3);
const flops = invocations * iters * chains * 4 * 2;
console.log(`${chains} chains: ${t.toFixed(1)} ms, ${(flops / t / 1e6).toFixed(1)} GFLOP/s`);
process.exit(0);
