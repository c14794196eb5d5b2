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

export async function time(rt: GpuRuntime, work: Workload, options: { reps: number; inner: number }): Promise<Timing> {
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
  await (await record(1)).submit();
  const samples: number[] = [];
  for (let r = 0; r < options.reps; r++) {
    const d = await record(options.inner);
    const t0 = performance.now();
    await d.submit();
    samples.push((performance.now() - t0) / options.inner);
  }
  for (const b of Object.values(buffers)) rt.pool.release(b);
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)]!, minMs: samples[0]! };
}

/** A single kernel instance as a one-step workload whose bindings use their own names. */
export function single(instance: KernelStep["instance"]): KernelStep[] {
  return [{ instance, bind: {} }];
}
