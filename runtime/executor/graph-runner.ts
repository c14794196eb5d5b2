// Runs a graph on the GPU: allocates its buffers (activations by shared slot,
// trained tensors as views of flat buffers), fills weights and parameters,
// compiles every kernel once and builds every bind group once, then encodes
// whole phases into one compute pass per run. It knows no method and no model.
import type { KernelSource, ParamField } from "../../compiler/codegen/types.js";
import type { Graph, GraphBuffer, GraphOp, PhaseName, ScalarRef } from "../../compiler/graph/types.js";
import type { GpuRuntime } from "../gpu/index.js";
import type { CompiledKernel } from "../gpu/pipelines.js";
import { KernelError } from "../gpu/errors.js";
import { fromFloat32 } from "../files/safetensors.js";
import { packParams } from "../gpu/params.js";
import { warmPipelines, type WarmItem, type WarmProgress, type WarmReport } from "../gpu/warm.js";
import { initialValues } from "./init.js";

interface Binding {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

interface PreparedOp {
  op: GraphOp;
  compiled: CompiledKernel;
  bindGroup: GPUBindGroup;
  params?: { buffer: GPUBuffer; fields: ParamField[]; values: Record<string, number>; scalars: Map<string, string> };
}

/** One op's time in a profile. */
export interface OpTiming {
  phase: PhaseName;
  label: string;
  kernel: string;
  family: string;
  workgroups: number;
  ms: number;
}

function timingOf(phase: PhaseName, prepared: PreparedOp, ms: number): OpTiming {
  const [x, y, z] = prepared.op.dispatch;
  return { phase, label: prepared.op.label, kernel: prepared.op.kernel, family: prepared.compiled.source.family, workgroups: x * y * z, ms };
}

/** Where a graph's frozen and trained tensors come from. */
export interface TensorSource {
  /** A base tensor by checkpoint name, as float32. */
  weight(name: string): Float32Array;
  /** A base tensor's bytes as stored: packed 16-bit weights upload these as they are. */
  stored?(name: string): { bytes: Uint8Array; dtype: string };
  /** A saved adapter tensor by PEFT key (and the adapter it belongs to, when the graph holds several), when one is loaded (else the tensor is initialized). */
  saved?(key: string, origin?: string): Float32Array | undefined;
  /** The model's tokenizer, for a text init (prompt tuning's TEXT): token ids with special tokens. */
  tokenize?(text: string): number[];
  seed: number;
}

const usage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class GraphRunner {
  private readonly bindings = new Map<string, Binding>();
  private readonly owned: GPUBuffer[] = [];
  private readonly phases = new Map<PhaseName, PreparedOp[]>();
  private readonly scalars = new Map<string, number>();
  private readonly dirty = new Set<string>();
  /** Buffers filled from a saved adapter: init ops that would compute them are skipped. */
  private readonly loaded = new Set<string>();

  private constructor(readonly runtime: GpuRuntime, readonly graph: Graph) {}

  /** How compiling this graph's pipelines went (see gpu/warm.ts). */
  compile: WarmReport | undefined;

  static async create(runtime: GpuRuntime, graph: Graph, wgsl: Map<string, string>, source: TensorSource, options: { onCompile?: WarmProgress } = {}): Promise<GraphRunner> {
    const runner = new GraphRunner(runtime, graph);
    runner.allocate();
    runner.fill(source);
    const kernels = new Map<string, KernelSource>();
    for (const [key, meta] of Object.entries(graph.kernels)) {
      const text = wgsl.get(key);
      if (text === undefined) throw new Error(`the graph's kernel ${key} has no WGSL`);
      kernels.set(key, { ...meta, wgsl: text });
    }
    runner.compile = await warmPipelines(runtime, runner.warmItems(kernels), options.onCompile);
    for (const [phase, ops] of Object.entries(graph.phases) as [PhaseName, GraphOp[]][]) {
      // An init op computes a starting value; a value loaded from a saved adapter wins.
      const wanted = phase === "init" ? ops.filter((op) => !runner.initWritesLoaded(op, kernels.get(op.kernel)!)) : ops;
      runner.phases.set(phase, await Promise.all(wanted.map((op) => runner.prepare(op, kernels.get(op.kernel)!))));
    }
    if (graph.phases.init.length > 0) await runner.run(["init"]);
    return runner;
  }

  /** Each kernel with the numeric params of its first op: a warm-up dispatch runs its loops at a real size. */
  private warmItems(kernels: Map<string, KernelSource>): WarmItem[] {
    const items = new Map<string, WarmItem>();
    for (const ops of Object.values(this.graph.phases)) {
      for (const op of ops) {
        if (items.has(op.kernel)) continue;
        const params: Record<string, number> = {};
        for (const [name, value] of Object.entries(op.params ?? {})) if (typeof value === "number") params[name] = value;
        items.set(op.kernel, { source: kernels.get(op.kernel)!, params });
      }
    }
    for (const [key, source] of kernels) if (!items.has(key)) items.set(key, { source });
    return [...items.values()];
  }

  private initWritesLoaded(op: GraphOp, source: KernelSource): boolean {
    return source.bindings.some((b) => b.access === "read_write" && this.loaded.has(op.bind[b.name]!));
  }

  private allocate(): void {
    const slots = new Map<number, number>();
    for (const b of this.graph.buffers) if (b.role === "activation" && b.slot !== undefined) slots.set(b.slot, Math.max(slots.get(b.slot) ?? 0, b.size));
    const slotBuffers = new Map<number, GPUBuffer>();
    for (const [slot, size] of [...slots].sort((a, b) => a[0] - b[0])) slotBuffers.set(slot, this.createBuffer(size * 4, `slot ${slot}`));
    // Flat buffers first: views point into them.
    for (const b of this.graph.buffers.filter((x) => !x.view && x.role !== "activation")) {
      this.bindings.set(b.name, { buffer: this.createBuffer(b.size * 4, b.name), offset: 0, size: b.size * 4 });
    }
    for (const b of this.graph.buffers) {
      if (b.view) {
        const flat = this.bindings.get(b.view.of);
        if (!flat) throw new Error(`buffer ${b.name} is a view of ${b.view.of}, which the graph lacks`);
        this.bindings.set(b.name, { buffer: flat.buffer, offset: b.view.offset * 4, size: b.size * 4 });
      } else if (b.role === "activation") {
        this.bindings.set(b.name, { buffer: slotBuffers.get(b.slot!)!, offset: 0, size: b.size * 4 });
      }
    }
  }

  private createBuffer(bytes: number, label: string): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const buffer = this.runtime.device.createBuffer({ size, usage: usage(), label });
    this.owned.push(buffer);
    return buffer;
  }

  private fill(source: TensorSource): void {
    const write = (name: string, data: Float32Array | Int32Array | Uint32Array) => {
      const b = this.bindings.get(name)!;
      this.runtime.device.queue.writeBuffer(b.buffer, b.offset, data.buffer, data.byteOffset, data.byteLength);
    };
    // A base tensor is read once and kept only until its last reader (a weight buffer, or a copy init) has it.
    const readers = new Map<string, number>();
    const reads = (tensor: string) => readers.set(tensor, (readers.get(tensor) ?? 0) + 1);
    const storedHalves = (b: GraphBuffer) => (b.packed && source.stored ? source.stored(b.tensor!) : undefined);
    for (const b of this.graph.buffers) {
      if (b.role === "weight" && !(b.packed && source.stored)) reads(b.tensor!);
      else if ((b.init?.kind === "copy" || b.init?.kind === "embedding_rows") && ((b.role === "parameter" && b.view) || b.role === "frozen")) reads(b.init.from);
    }
    const weights = new Map<string, Float32Array>();
    const weight = (tensor: string) => {
      const values = weights.get(tensor) ?? source.weight(tensor);
      const left = (readers.get(tensor) ?? 1) - 1;
      readers.set(tensor, left);
      if (left > 0) weights.set(tensor, values);
      else weights.delete(tensor);
      return values;
    };
    for (const b of this.graph.buffers) {
      if (b.role === "weight" && b.packed) write(b.name, packHalves(b, storedHalves(b) ?? weight(b.tensor!)));
      else if (b.role === "weight") write(b.name, checkSize(b, weight(b.tensor!)));
      else if (b.role === "constant") write(b.name, b.type === "f32" ? Float32Array.from(b.data!) : b.type === "i32" ? Int32Array.from(b.data!) : Uint32Array.from(b.data!));
      else if ((b.role === "parameter" && b.view) || b.role === "frozen") {
        const saved = b.key ? source.saved?.(b.key, b.origin) : undefined;
        if (saved) {
          write(b.name, checkSize(b, saved));
          this.loaded.add(b.name);
        }
        else if (b.init && b.init.kind !== "computed") write(b.name, initialValues(b.init, b.size, source.seed, b.name, { weight: (from) => weight(from), ...(source.tokenize ? { tokenize: source.tokenize } : {}) }));
      }
    }
    // AdamW's moments and the gradients start at zero: WebGPU creates buffers zeroed.
  }

  private async prepare(op: GraphOp, source: KernelSource): Promise<PreparedOp> {
    const { device } = this.runtime;
    const compiled = await this.runtime.pipelines.get(source);
    let params: PreparedOp["params"];
    const entries: GPUBindGroupEntry[] = source.bindings.map((binding, index) => {
      if (binding.access === "uniform") {
        const fields = source.params ?? [];
        const values: Record<string, number> = {};
        const scalars = new Map<string, string>();
        for (const field of fields) {
          const value = op.params?.[field.name];
          if (value === undefined) throw KernelError.of(source, "dispatch", `${op.label}: no value for params.${field.name}`);
          if (typeof value === "number") values[field.name] = value;
          else {
            scalars.set(field.name, (value as ScalarRef).scalar);
            values[field.name] = this.scalars.get((value as ScalarRef).scalar) ?? 0;
          }
        }
        const buffer = device.createBuffer({ size: Math.max(16, Math.ceil((fields.length * 4) / 16) * 16), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: `${op.label} params` });
        this.owned.push(buffer);
        params = { buffer, fields, values, scalars };
        this.writeParams(params);
        return { binding: index, resource: { buffer } };
      }
      const bound = this.bindings.get(op.bind[binding.name]!);
      if (!bound) throw KernelError.of(source, "dispatch", `${op.label}: buffer ${op.bind[binding.name]} does not exist`);
      return { binding: index, resource: { buffer: bound.buffer, offset: bound.offset, size: bound.size } };
    });
    device.pushErrorScope("validation");
    const bindGroup = device.createBindGroup({ layout: compiled.layout, entries, label: op.label });
    const error = await device.popErrorScope();
    if (error) throw KernelError.of(source, "dispatch", `${op.label}: ${error.message}`);
    return { op, compiled, bindGroup, ...(params ? { params } : {}) };
  }

  private writeParams(params: NonNullable<PreparedOp["params"]>): void {
    this.runtime.device.queue.writeBuffer(params.buffer, 0, packParams(params.fields, (name) => params.values[name]!));
  }

  /** Sets a run-time scalar (lr, step, gradScale...); ops reading it see the new value from the next run. */
  setScalar(name: string, value: number): void {
    if (this.scalars.get(name) === value) return;
    this.scalars.set(name, value);
    this.dirty.add(name);
  }

  /** Writes host data into an input buffer. */
  write(name: string, data: Int32Array | Float32Array | Uint32Array): void {
    const b = this.bindings.get(name);
    if (!b) throw new Error(`no buffer ${name}`);
    if (data.byteLength > b.size) throw new Error(`${name}: ${data.byteLength} bytes for a ${b.size}-byte buffer`);
    this.runtime.device.queue.writeBuffer(b.buffer, b.offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Reads a buffer back (outside training steps: losses at log time, parameters to save). */
  async read(name: string, into: Float32Array | Int32Array): Promise<void> {
    const b = this.bindings.get(name);
    if (!b) throw new Error(`no buffer ${name}`);
    await this.runtime.pool.read({ buffer: b.buffer, offset: b.offset, size: b.size }, into);
  }

  /** Runs phases in order in one compute pass (after clearing `clear`), and waits for the GPU. */
  async run(phases: PhaseName[], clear: string[] = []): Promise<void> {
    const { device } = this.runtime;
    this.flushScalars();
    device.pushErrorScope("validation");
    device.pushErrorScope("out-of-memory");
    const encoder = device.createCommandEncoder();
    for (const name of clear) this.clearIn(encoder, name);
    const pass = encoder.beginComputePass();
    for (const phase of phases) for (const prepared of this.phases.get(phase) ?? []) this.encode(pass, prepared);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const oom = await device.popErrorScope();
    const validation = await device.popErrorScope();
    await device.queue.onSubmittedWorkDone();
    const error = validation ?? oom;
    if (error) throw new Error(`the GPU refused phase ${phases.join("+")}: ${error.message}`);
  }

  /**
   * Runs the phases once with every op timed on its own: GPU timestamps around
   * each op's compute pass where the adapter has timestamp queries, else one
   * submit per op timed on the host (which adds the submit's overhead). For
   * profiles, not for training: a pass per op is slower than one pass.
   */
  async profile(phases: PhaseName[], clear: string[] = []): Promise<OpTiming[]> {
    const { device } = this.runtime;
    this.flushScalars();
    const ops = phases.flatMap((phase) => (this.phases.get(phase) ?? []).map((prepared) => ({ phase, prepared })));
    const timestamps = device.features.has("timestamp-query");
    const timings: OpTiming[] = [];
    const CHUNK = 1024;
    for (let start = 0; start < ops.length; start += CHUNK) {
      const chunk = ops.slice(start, start + CHUNK);
      if (timestamps) {
        const querySet = device.createQuerySet({ type: "timestamp", count: 2 * chunk.length });
        const resolved = device.createBuffer({ size: 16 * chunk.length, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
        const encoder = device.createCommandEncoder();
        if (start === 0) for (const name of clear) this.clearIn(encoder, name);
        chunk.forEach(({ prepared }, i) => {
          const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
          this.encode(pass, prepared);
          pass.end();
        });
        encoder.resolveQuerySet(querySet, 0, 2 * chunk.length, resolved, 0);
        device.queue.submit([encoder.finish()]);
        const words = new Uint32Array(4 * chunk.length);
        await this.runtime.pool.read(resolved, words);
        const ticks = new BigInt64Array(words.buffer);
        chunk.forEach(({ phase, prepared }, i) => timings.push(timingOf(phase, prepared, Number(ticks[2 * i + 1]! - ticks[2 * i]!) / 1e6)));
        querySet.destroy();
        resolved.destroy();
      } else {
        for (const [i, { phase, prepared }] of chunk.entries()) {
          const encoder = device.createCommandEncoder();
          if (start === 0 && i === 0) for (const name of clear) this.clearIn(encoder, name);
          const pass = encoder.beginComputePass();
          this.encode(pass, prepared);
          pass.end();
          const t0 = performance.now();
          device.queue.submit([encoder.finish()]);
          await device.queue.onSubmittedWorkDone();
          timings.push(timingOf(phase, prepared, performance.now() - t0));
        }
      }
    }
    return timings;
  }

  private clearIn(encoder: GPUCommandEncoder, name: string): void {
    const b = this.bindings.get(name)!;
    encoder.clearBuffer(b.buffer, b.offset, Math.ceil(b.size / 4) * 4);
  }

  private encode(pass: GPUComputePassEncoder, prepared: PreparedOp): void {
    pass.setPipeline(prepared.compiled.pipeline);
    pass.setBindGroup(0, prepared.bindGroup);
    pass.dispatchWorkgroups(...prepared.op.dispatch);
  }

  private flushScalars(): void {
    if (this.dirty.size === 0) return;
    for (const ops of this.phases.values()) {
      for (const prepared of ops) {
        const params = prepared.params;
        if (!params) continue;
        let changed = false;
        for (const [field, scalar] of params.scalars) {
          if (this.dirty.has(scalar)) {
            params.values[field] = this.scalars.get(scalar)!;
            changed = true;
          }
        }
        if (changed) this.writeParams(params);
      }
    }
    this.dirty.clear();
  }

  /** Frees every buffer (the runner cannot be used afterwards). */
  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }
}

/**
 * A 16-bit checkpoint tensor in its 16 bits, two to a word: its stored bytes
 * as they are, or (from f32, which holds it exactly) converted back.
 */
function packHalves(buffer: GraphBuffer, values: Float32Array | { bytes: Uint8Array; dtype: string }): Uint32Array {
  const dtype = buffer.packed === "bf16" ? "BF16" : "F16";
  const elements = buffer.shape.reduce((a, x) => a * x, 1);
  if (!(values instanceof Float32Array) && values.dtype !== dtype) throw new Error(`${buffer.name}: stored as ${values.dtype}, packed as ${dtype}`);
  const bytes = values instanceof Float32Array ? fromFloat32(values, dtype) : values.bytes;
  if (bytes.byteLength !== elements * 2) throw new Error(`${buffer.name}: ${bytes.byteLength / 2} values for ${elements} elements`);
  const words = new Uint32Array(buffer.size);
  new Uint8Array(words.buffer).set(bytes);
  return words;
}

function checkSize(buffer: GraphBuffer, values: Float32Array): Float32Array {
  if (values.length !== buffer.size) throw new Error(`${buffer.name}: ${values.length} values for ${buffer.size} elements`);
  return values;
}

