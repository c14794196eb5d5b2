// Builds a graph: buffers with roles, kernel dispatches in phases, trained
// tensors packed into flat buffers (so AdamW is one dispatch), and activation
// memory shared between buffers whose lifetimes do not overlap.
import type { KernelInstance, KernelPlan, KernelSource } from "../codegen/types.js";
import { graphProblems } from "./schema.js";
import {
  GRAPH_VERSION,
  type ElementType,
  type Graph,
  type GraphBuffer,
  type GraphOp,
  type InitSpec,
  type PhaseName,
  type ScalarRef,
} from "./types.js";

// Storage bindings must start at multiples of 256 bytes: 64 floats.
const ALIGN = 64;

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export interface TrainedTensor {
  /** The parameter's buffer (a view of the flat parameters). */
  param: string;
  /** Its gradient's buffer. */
  grad: string;
}

export class GraphBuilder {
  private readonly buffers = new Map<string, GraphBuffer>();
  private readonly kernels = new Map<string, KernelSource>();
  readonly phases: Record<PhaseName, GraphOp[]> = {
    init: [], forward: [], loss: [], backward: [], optimizer: [], eval: [], merge: [], unmerge: [], prefill: [], decode: [],
  };
  private paramOffset = 0;
  private flatDeclared = false;
  private readonly trained: { name: string; offset: number; size: number; weightDecay: number }[] = [];
  private scratchCounter = 0;
  /** The scope buffers declared now belong to ("" outside any); see scoped(). */
  private scope = "";
  /** The pass being emitted (undefined outside any); see pass(). */
  private currentPass: PhaseName | undefined;

  /**
   * @param weightDecay AdamW's decoupled weight decay for trained tensors, as
   * Hugging Face's Trainer applies it: to everything but biases and norm weights
   * (which declare `decay: false`).
   * @param training whether the graph trains: a graph that only applies
   * adapters (evaluation, merging) has no gradients and no optimizer state.
   */
  constructor(readonly batch: number, readonly seqLen: number, readonly weightDecay = 0, readonly training = true) {}

  has(name: string): boolean {
    return this.buffers.has(this.resolve(name));
  }

  get(name: string): GraphBuffer {
    const b = this.buffers.get(this.resolve(name));
    if (!b) throw new Error(`graph: no buffer ${name}`);
    return b;
  }

  /**
   * Runs `emit` with the adapter tensors and activations it declares kept
   * apart from same-named ones of other scopes: two adapters on one module
   * (merged together, or mixed in a batch) each get their own A and B, while
   * the hook's code names them as usual. Base weights are shared.
   */
  scoped<T>(scope: string, emit: () => T): T {
    const outer = this.scope;
    this.scope = scope;
    try {
      return emit();
    } finally {
      this.scope = outer;
    }
  }

  /**
   * Runs `emit` as one pass of a graph that runs the model at several shapes
   * (generation: a prefill chunk, then one token at a time). Ops it sends to
   * the "forward" phase land in `phase`, and the activations it declares are
   * its own (the same lowering code names them alike in every pass, at other
   * sizes); weights, parameters, inputs and caches are shared by all passes.
   */
  pass<T>(phase: PhaseName, emit: () => T): T {
    const outer = this.currentPass;
    this.currentPass = phase;
    try {
      return emit();
    } finally {
      this.currentPass = outer;
    }
  }

  /** A name as the current scope and pass see it: their own buffer when they declared one, else the shared one. */
  private resolve(name: string): string {
    if (!this.scope && !this.currentPass) return name;
    const scoped = this.scope ? `${this.scope}|${name}` : name;
    const candidates = this.currentPass ? [`${this.currentPass}>${scoped}`, scoped, `${this.currentPass}>${name}`, name] : [scoped, name];
    return candidates.find((c) => this.buffers.has(c)) ?? name;
  }

  private add(buffer: GraphBuffer): string {
    if (this.scope && buffer.role !== "weight" && buffer.role !== "constant" && buffer.role !== "input" && buffer.role !== "cache") {
      buffer = { ...buffer, name: `${this.scope}|${buffer.name}`, origin: this.scope };
    }
    if (this.currentPass && buffer.role === "activation") buffer = { ...buffer, name: `${this.currentPass}>${buffer.name}` };
    const existing = this.buffers.get(buffer.name);
    if (existing) {
      if (existing.size !== buffer.size || existing.role !== buffer.role) throw new Error(`graph: buffer ${buffer.name} declared twice differently`);
      return buffer.name;
    }
    this.buffers.set(buffer.name, buffer);
    return buffer.name;
  }

  /** A frozen base tensor from the checkpoint. */
  weight(tensor: string, shape: number[]): string {
    return this.add({ name: `w:${tensor}`, role: "weight", type: "f32", size: count(shape), shape, tensor });
  }

  /** A frozen weight kept as its checkpoint's 16-bit floats (see GraphBuffer.packed). */
  packedWeight(tensor: string, shape: number[], packed: "bf16" | "f16"): string {
    return this.add({ name: `w16:${tensor}`, role: "weight", type: "u32", size: Math.ceil(count(shape) / 2), shape, tensor, packed });
  }

  activation(name: string, shape: number[], type: ElementType = "f32"): string {
    return this.add({ name, role: "activation", type, size: count(shape), shape });
  }

  input(name: string, shape: number[], type: ElementType): string {
    return this.add({ name, role: "input", type, size: count(shape), shape });
  }

  constant(name: string, data: number[], type: ElementType): string {
    return this.add({ name, role: "constant", type, size: data.length, shape: [data.length], data });
  }

  /** State kept from run to run (a KV cache), zero when the graph is loaded. */
  cache(name: string, shape: number[]): string {
    return this.add({ name, role: "cache", type: "f32", size: count(shape), shape });
  }

  /** A frozen tensor an adapter adds (made at init, saved when it has a key). */
  frozen(name: string, shape: number[], init: InitSpec, key?: string): string {
    return this.add({ name, role: "frozen", type: "f32", size: count(shape), shape, init, ...(key ? { key } : {}) });
  }

  /** A trained tensor: its value and its gradient, as views of the flat buffers. */
  parameter(name: string, shape: number[], init: InitSpec, options: { key?: string; decay?: boolean } = {}): TrainedTensor {
    const scoped = this.scope ? `${this.scope}|` : "";
    const param = `${scoped}p:${name}`;
    const grad = `${scoped}g:${name}`;
    if (this.buffers.has(param)) return { param, grad };
    if (this.flatDeclared) throw new Error(`graph: parameter ${name} declared after the flat buffers`);
    const size = count(shape);
    const offset = this.paramOffset;
    const weightDecay = options.decay === false ? 0 : this.weightDecay;
    this.paramOffset += Math.ceil(size / ALIGN) * ALIGN;
    this.trained.push({ name, offset, size, weightDecay });
    this.add({ name: `p:${name}`, role: "parameter", type: "f32", size, shape, init, view: { of: "params", offset }, ...(options.key ? { key: options.key } : {}), weightDecay });
    if (this.training) this.add({ name: `g:${name}`, role: "gradient", type: "f32", size, shape, view: { of: "grads", offset } });
    return { param, grad };
  }

  get trainedElements(): number {
    return this.paramOffset;
  }

  get trainedTensors(): readonly { name: string; offset: number; size: number; weightDecay: number }[] {
    return this.trained;
  }

  private kernel(source: KernelSource): string {
    this.kernels.set(source.key, source);
    return source.key;
  }

  /** One dispatch: `bind` maps each storage binding of the kernel to a buffer. */
  op(phase: PhaseName, instance: KernelInstance, bind: Record<string, string>, label: string, params?: Record<string, number | ScalarRef>): void {
    bind = Object.fromEntries(Object.entries(bind).map(([k, v]) => [k, this.resolve(v)]));
    for (const binding of instance.kernel.bindings) {
      if (binding.access !== "uniform" && !bind[binding.name]) throw new Error(`graph: ${label}: binding ${binding.name} of ${instance.kernel.key} is unbound`);
      if (binding.access !== "uniform") this.get(bind[binding.name]!);
    }
    const merged = { ...(instance.params ?? {}), ...(params ?? {}) };
    if (this.currentPass && phase === "forward") phase = this.currentPass;
    const op: GraphOp = {
      kernel: this.kernel(instance.kernel),
      bind: Object.fromEntries(instance.kernel.bindings.filter((b) => b.access !== "uniform").map((b) => [b.name, bind[b.name]!])),
      dispatch: instance.dispatch,
      ...(Object.keys(merged).length > 0 ? { params: merged } : {}),
      label,
    };
    // Every pass of a multi-pass graph declares the same init work (DoRA's magnitude): once is enough.
    if (phase === "init" && this.phases.init.some((o) => sameOp(o, op))) return;
    this.phases[phase].push(op);
  }

  /** Several dispatches: `bind` maps the plan's tensor names to buffers; its scratch tensors become activations. */
  plan(phase: PhaseName, plan: KernelPlan, bind: Record<string, string>, label: string, params?: Record<string, number | ScalarRef>): Record<string, string> {
    const names = { ...bind };
    for (const [scratch, size] of Object.entries(plan.scratch)) {
      if (!names[scratch]) names[scratch] = this.activation(`s${this.scratchCounter++}:${label}:${scratch}`, [size]);
    }
    for (const step of plan.steps) {
      const stepBind = Object.fromEntries(Object.entries(step.bind).map(([binding, tensor]) => {
        const buffer = names[tensor];
        if (!buffer) throw new Error(`graph: ${label}: plan tensor ${tensor} is unbound`);
        return [binding, buffer];
      }));
      this.op(phase, step.instance, stepBind, label, params);
    }
    return names;
  }

  /**
   * Declares the flat buffers every trained tensor is a view of: parameters,
   * gradients and AdamW's moments. After this no parameter can be added.
   */
  flatBuffers(): { params: string; grads: string; m: string; v: string } {
    if (!this.flatDeclared && this.paramOffset > 0) {
      const flat = [["params", "parameter"], ["grads", "gradient"], ["adam_m", "optimizer"], ["adam_v", "optimizer"]] as const;
      for (const [name, role] of this.training ? flat : flat.slice(0, 1)) {
        this.add({ name, role, type: "f32", size: this.paramOffset, shape: [this.paramOffset] });
      }
    }
    this.flatDeclared = true;
    return { params: "params", grads: "grads", m: "adam_m", v: "adam_v" };
  }

  /**
   * The finished graph, and every kernel's WGSL by key. `unread`: io buffers
   * the host never reads after a run of this graph, which need not outlive their last op.
   */
  finish(io: Graph["io"], zeroBeforeStep: string[], unread: string[] = []): { graph: Graph; wgsl: Map<string, string> } {
    this.flatBuffers();
    // Prefill and decode (empty in training graphs) follow: their activations can share the training phases' slots, and each other's.
    const lived = [...this.phases.forward, ...this.phases.loss, ...this.phases.backward, ...this.phases.prefill, ...this.phases.decode];
    assignSlots([...this.buffers.values()], lived, io, new Set(unread));
    const kernels: Graph["kernels"] = {};
    const wgsl = new Map<string, string>();
    for (const key of [...this.kernels.keys()].sort()) {
      const { wgsl: text, ...rest } = this.kernels.get(key)!;
      kernels[key] = rest;
      wgsl.set(key, text);
    }
    const graph: Graph = {
      graph: GRAPH_VERSION,
      batch: this.batch,
      seqLen: this.seqLen,
      buffers: [...this.buffers.values()],
      kernels,
      phases: this.phases,
      io,
      zeroBeforeStep,
    };
    // A lowering bug shows here, at compile time, rather than as a GPU validation error.
    const problems = graphProblems(graph);
    if (problems.length > 0) throw new Error(`graph: the lowered graph is invalid: ${problems.slice(0, 5).join("; ")}`);
    return { graph, wgsl };
  }
}

/**
 * Gives activations that are never alive at the same time the same memory
 * slot. Largest first: each buffer joins an existing slot at least its size
 * whose members are all dead while it lives (the one wasting least), or opens
 * a new one. (One arena with offsets would pack tighter, but WebGPU forbids a
 * dispatch to bind one buffer both read-only and writable, so activations that
 * meet in an op must be separate buffers.) Buffers the host reads are pinned.
 */
function assignSlots(buffers: GraphBuffer[], ops: GraphOp[], io: Graph["io"], unread: Set<string>): void {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  ops.forEach((op, i) => {
    for (const name of Object.values(op.bind)) {
      if (!first.has(name)) first.set(name, i);
      last.set(name, i);
    }
  });
  const pinned = new Set(Object.values(io).filter((x): x is string => typeof x === "string" && !unread.has(x)));
  if (io.generate) pinned.add(io.generate.logits);
  const candidates = buffers
    .filter((b) => b.role === "activation" && first.has(b.name))
    .sort((a, b) => b.size - a.size || first.get(a.name)! - first.get(b.name)! || a.name.localeCompare(b.name));
  const slots: { size: number; lives: [number, number][] }[] = [];
  for (const b of candidates) {
    const start = first.get(b.name)!;
    const end = pinned.has(b.name) ? Number.POSITIVE_INFINITY : last.get(b.name)!;
    let best = -1;
    for (let s = 0; s < slots.length; s++) {
      const slot = slots[s]!;
      if (slot.size < b.size || slot.lives.some(([a, z]) => a <= end && start <= z)) continue;
      if (best < 0 || slot.size < slots[best]!.size) best = s;
    }
    if (best < 0) {
      slots.push({ size: b.size, lives: [[start, end]] });
      b.slot = slots.length - 1;
    } else {
      slots[best]!.lives.push([start, end]);
      b.slot = best;
    }
  }
  // Buffers used by no training op (eval-only) get slots of their own.
  for (const b of buffers) {
    if (b.role === "activation" && b.slot === undefined) {
      slots.push({ size: b.size, lives: [] });
      b.slot = slots.length - 1;
    }
  }
}

function sameOp(a: GraphOp, b: GraphOp): boolean {
  return a.kernel === b.kernel && JSON.stringify(a.bind) === JSON.stringify(b.bind) && JSON.stringify(a.params) === JSON.stringify(b.params);
}
