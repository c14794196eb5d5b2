// Running generated kernels in tests: upload inputs, poison outputs with NaN
// (so an element a kernel forgot to write fails the comparison), dispatch,
// read back, and compare with a float64 reference by relative Frobenius norm.
import * as assert from "uvu/assert";
import type { KernelInstance } from "../../compiler/codegen/types.js";
import { acquireRuntime, type GpuRuntime } from "../../runtime/gpu/index.js";
import { testDevice } from "./gpu.js";

export type HostArray = Float32Array | Uint32Array | Int32Array | Uint16Array;

/** A tensor of a test run: initial data, or a length for an output that starts as NaN. */
export type TensorInit = HostArray | { length: number; poison?: "nan" };

export interface Step {
  instance: KernelInstance;
  /** Kernel binding name → tensor name; bindings not listed bind the tensor of the same name. */
  bind?: Record<string, string>;
  params?: Record<string, number>;
}

export async function kernelRuntime(): Promise<GpuRuntime> {
  await testDevice();
  return acquireRuntime();
}

/** Runs the steps in one submit and returns every tensor read back as f32 bits. */
export async function runSteps(
  tensors: Record<string, TensorInit>,
  steps: Step[],
): Promise<Record<string, Float32Array>> {
  const rt = await kernelRuntime();
  const buffers: Record<string, GPUBuffer> = {};
  const lengths: Record<string, number> = {};
  for (const [name, init] of Object.entries(tensors)) {
    if (ArrayBuffer.isView(init)) {
      buffers[name] = rt.pool.upload(init, name);
      lengths[name] = Math.ceil(init.byteLength / 4);
    } else {
      const poison = new Float32Array(init.length).fill(Number.NaN);
      buffers[name] = rt.pool.upload(poison, name);
      lengths[name] = init.length;
    }
  }
  await rt.pipelines.prepare(steps.map((s) => s.instance.kernel));
  const dispatcher = rt.dispatcher();
  for (const step of steps) {
    const map: Record<string, GPUBuffer> = {};
    for (const binding of step.instance.kernel.bindings) {
      if (binding.access === "uniform") continue;
      const tensor = step.bind?.[binding.name] ?? binding.name;
      const buffer = buffers[tensor];
      if (!buffer) throw new Error(`test: no tensor "${tensor}" for binding ${binding.name} of ${step.instance.kernel.key}`);
      map[binding.name] = buffer;
    }
    await dispatcher.record(step.instance, map, step.params ? { params: step.params } : {});
  }
  await dispatcher.submit();
  const out: Record<string, Float32Array> = {};
  for (const [name, buffer] of Object.entries(buffers)) {
    out[name] = new Float32Array(lengths[name]!);
    await rt.pool.read(buffer, out[name]);
    rt.pool.release(buffer);
  }
  return out;
}

/**
 * ‖got − want‖_F / ‖scale‖_F, scale defaulting to want; any non-finite
 * element in got gives Infinity.
 */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>, scale: ArrayLike<number> = want): number {
  if (got.length < want.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    if (!Number.isFinite(g)) return Number.POSITIVE_INFINITY;
    diff += (g - want[i]!) ** 2;
    norm += scale[i]! ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
}

/**
 * Fails unless relativeError(got, want, scale) ≤ bound. Pass as `scale` the
 * same computation on |inputs| where a result is a short sum that may cancel:
 * f32 error is relative to Σ|terms|, not to |Σ terms|.
 */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  bound: number,
  what: string,
  scale?: ArrayLike<number>,
): void {
  const err = relativeError(got, want, scale);
  let firstBad = -1;
  for (let i = 0; i < want.length && firstBad < 0; i++) if (!Number.isFinite(got[i]!)) firstBad = i;
  const detail = firstBad >= 0 ? `; element ${firstBad} is ${got[firstBad]} (unwritten?)` : "";
  assert.ok(err <= bound, `${what}: relative Frobenius error ${err.toExponential(2)} > ${bound}${detail} (seed ${seed})`);
}

// A seeded generator so that a failure can be replayed: PEFTC_TEST_SEED=n.
const seed = Number(process.env.PEFTC_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
let state = seed >>> 0;
function next(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Uniform in [lo, hi), never all zeros. */
export function randomF32(n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * next();
  return a;
}

export function randomInt(n: number, lo: number, hi: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor((hi - lo) * next());
  return a;
}

export function f64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}
