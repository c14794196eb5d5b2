// Wall-clock timing of kernel plans: buffers filled once with random data,
// a warm-up submit (which also makes lavapipe compile the shaders), then
// several timed submits, each of `inner` back-to-back repetitions so that
// submit overhead is amortised for small kernels.
import type { KernelStep } from "../compiler/codegen/types.js";
import type { GpuRuntime } from "../runtime/gpu/index.js";

export interface Workload {
  steps: KernelStep[];
  /** Element counts (4-byte words) of every tensor the steps bind; filled randomly unless data is given. */
  tensors: Record<string, number | Float32Array | Int32Array | Uint32Array>;
  params?: Record<string, number>;
}

export interface Timing {
  /** Median milliseconds per repetition. */
  ms: number;
  minMs: number;
}

/** Times one workload. */
export async function time(rt: GpuRuntime, work: Workload, options: { reps: number; inner: number }): Promise<Timing> {
  return (await timeInterleaved(rt, [work], options))[0]!;
}

/**
 * Times several workloads with their repetitions interleaved (a, b, a, b, ...),
 * so that a ratio between them is not skewed by the host changing speed
 * between one workload's run and the next's.
 */
export async function timeInterleaved(rt: GpuRuntime, works: Workload[], options: { reps: number; inner: number }): Promise<Timing[]> {
  const prepared = await Promise.all(works.map((w) => prepare(rt, w)));
  for (const p of prepared) await (await p.record(1)).submit();
  const samples: number[][] = works.map(() => []);
  for (let r = 0; r < options.reps; r++) {
    for (const [i, p] of prepared.entries()) {
      const d = await p.record(options.inner);
      const t0 = performance.now();
      await d.submit();
      samples[i]!.push((performance.now() - t0) / options.inner);
    }
  }
  for (const p of prepared) p.release();
  return samples.map((s) => {
    s.sort((a, b) => a - b);
    return { ms: s[Math.floor(s.length / 2)]!, minMs: s[0]! };
  });
}

async function prepare(rt: GpuRuntime, work: Workload) {
  const buffers: Record<string, GPUBuffer> = {};
  for (const [name, init] of Object.entries(work.tensors)) {
    if (typeof init === "number") {
      const data = new Float32Array(init);
      for (let i = 0; i < init; i++) data[i] = Math.random() * 2 - 1;
      buffers[name] = rt.pool.upload(data, name);
    } else {
      buffers[name] = rt.pool.upload(init, name);
    }
  }
  await rt.pipelines.prepare(work.steps.map((s) => s.instance.kernel));
  const record = async (inner: number) => {
    const d = rt.dispatcher();
    for (let i = 0; i < inner; i++) {
      for (const step of work.steps) {
        const map: Record<string, GPUBuffer> = {};
        for (const b of step.instance.kernel.bindings) {
          if (b.access === "uniform") continue;
          const buffer = buffers[step.bind[b.name] ?? b.name];
          if (!buffer) throw new Error(`bench: no tensor ${step.bind[b.name] ?? b.name} for ${step.instance.kernel.key}`);
          map[b.name] = buffer;
        }
        await d.record(step.instance, map, work.params ? { params: work.params } : {});
      }
    }
    return d;
  };
  const release = () => {
    for (const b of Object.values(buffers)) rt.pool.release(b);
  };
  return { record, release };
}

/** A single kernel instance as a one-step workload whose bindings use their own names. */
export function single(instance: KernelStep["instance"]): KernelStep[] {
  return [{ instance, bind: {} }];
}
