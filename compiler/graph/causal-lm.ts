// The training and evaluation graph of a causal language model: the shared
// layer toolkit (linear, norm, attention, MLPs, embeddings, recompute) with
// which each model family writes its forward (compiler/models/<family>/),
// the loss, the optimizer, and a backward that computes gradients only for
// trained tensors and the activations on the way to them. Adapted layers are
// lowered by their method's hook.
import { attentionBackwardPlan, attentionForwardPlan } from "../codegen/attention.js";
import { crossEntropy } from "../codegen/cross_entropy.js";
import { elementwise } from "../codegen/elementwise.js";
import { embeddingForward } from "../codegen/embedding.js";
import { normBackward, normForward } from "../codegen/norm.js";
import { rope } from "../codegen/rope.js";
import { adamw, adamwSegmentTable } from "../codegen/adamw.js";
import { sumSquares } from "../codegen/reduce.js";
import type { DeviceProfile } from "../codegen/types.js";
import { UserError } from "../errors.js";
import { findMethod } from "../methods/registry.js";
import type { ModelTree, ModuleNode } from "../models/types.js";
import type { Plan, PlanAdapter, PlanModule } from "../resolve/plan-types.js";
import type { EmbeddingHook, EmbeddingSite } from "./embedding.js";
import { GraphBuilder } from "./builder.js";
import { GradTracker } from "./grads.js";
import { plainLinearBackward, plainLinearForward, type LinearContext, type LinearSite } from "./linear.js";
import { emitMerge, type MergeInput } from "./merge.js";
import { mixedLinearForward, perAdapterRows, type MixedEntry } from "./mixed.js";
import { packedLinearBackward, packedLinearForward } from "./packed-linear.js";
import type { Packed16 } from "../codegen/widen.js";
import type { Graph } from "./types.js";
import type { FamilyForward } from "./family-forward.js";
import { addPrompts, inputEntry, virtualTokensOf, type InputEntry } from "./input-site.js";
import { MODEL_FAMILIES } from "../models/families.js";

export interface OptimizerSettings {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 0 turns clipping off. */
  maxGradNorm: number;
}

export interface LoweringInput {
  tree: ModelTree;
  plan: Plan;
  batch: number;
  seqLen: number;
  device: DeviceProfile;
  /** Absent for an evaluation-only graph. */
  optimizer?: OptimizerSettings;
  /**
   * Carry gradients all the way to the input embeddings even with nothing to
   * train: the cost of a frozen model's forward and backward, which a
   * benchmark sets an adapter's step beside.
   */
  backwardToInputs?: boolean;
  /**
   * Recompute, during the backward, the MLP activations of blocks whose MLP is
   * not adapted (the normed input, gate and up), instead of keeping them from
   * the forward: about a third less activation memory for two extra GEMMs a block.
   */
  recompute?: boolean;
  /**
   * Keep frozen linear weights of BF16 / F16 checkpoints in 16 bits on the
   * GPU, widened just before each product (exactly: the same numbers as f32
   * weights): half the frozen weights' memory for one pass over them per product.
   */
  packedWeights?: boolean;
  /**
   * A mixed-adapter graph (evaluation and generation only): every adapter of
   * the plan is loaded, and each sequence runs with the one the host names in
   * the adapter index buffer (io.adapterIndex), or with none, as PEFT's
   * `adapter_names`. `generic` skips methods' fused mixed paths (for tests).
   */
  mixed?: { generic?: boolean };
  /**
   * Adapters the graph's merge phase folds into the base weights its forward
   * reads (PEFT's merge_adapter; the host runs it once, before the forward)
   * and its unmerge phase takes out again. The plan then adapts nothing: the
   * merged model runs at the base model's cost.
   */
  merge?: MergeInput["adapters"];
}

/** Adapted modules by path, each with its method's linear hook; anything the graph cannot train yet is a clear error. */
function adaptedModules(plan: Plan, mixed: boolean): Map<string, MixedEntry[]> {
  const out = new Map<string, MixedEntry[]>();
  plan.adapters.forEach((adapter, index) => {
    const method = findMethod(adapter.method)!;
    // Prompt methods act on the input (input-site.ts), not on layers.
    if (method.graph?.input) return;
    const hook = method.graph?.linear;
    if (!hook) throw new UserError(`training and running ${method.title} adapters is not supported yet (adapter '${adapter.name}')`);
    if (adapter.tensors.some((t) => t.trainable)) {
      throw new UserError(`adapter '${adapter.name}' trains tensors outside its modules (${adapter.tensors.find((t) => t.trainable)!.key}), which the graph does not support yet`);
    }
    for (const m of adapter.modules) {
      // Mixed graphs hold several adapters per module, each over its own rows.
      if (out.has(m.path) && !mixed) throw new UserError(`${m.path} is adapted by two adapters at once; train them one at a time`);
      // Embeddings go to the method's embedding hook (CausalLMLowering.embeddingHooks).
      if (m.kind === "embedding" && method.graph?.embedding) continue;
      if (m.kind !== "linear" && m.kind !== "conv1d") throw new UserError(`${adapter.method} on ${m.path} (${m.kind}) is not supported by the graph yet`);
      out.set(m.path, [...(out.get(m.path) ?? []), { module: m, hook, adapter, index, mixed: method.graph?.mixed }]);
    }
  });
  return out;
}

interface EmbeddingEntry {
  module: PlanModule;
  hook: EmbeddingHook;
  adapter: PlanAdapter;
  /** The adapter's place in the plan: its value in a mixed graph's adapter index. */
  index: number;
}

/** Adapted embedding modules by path, with their method's embedding hook (several in a mixed graph). */
function adaptedEmbeddings(plan: Plan, mixed: boolean): Map<string, EmbeddingEntry[]> {
  const out = new Map<string, EmbeddingEntry[]>();
  plan.adapters.forEach((adapter, index) => {
    const hook = findMethod(adapter.method)?.graph?.embedding;
    if (!hook) return;
    for (const m of adapter.modules) {
      if (m.kind !== "embedding") continue;
      // As for linears: only a mixed graph holds several adapters on one module.
      if (out.has(m.path) && !mixed) throw new UserError(`${m.path} is adapted by two adapters at once; train them one at a time`);
      out.set(m.path, [...(out.get(m.path) ?? []), { module: m, hook, adapter, index }]);
    }
  });
  return out;
}

function familyForward(name: string): FamilyForward {
  const family = MODEL_FAMILIES.find((f) => f.name === name);
  if (!family) throw new Error(`graph: no model family '${name}'`);
  return family.forward;
}

/**
 * The lowering of a causal LM's forward (and backward) at one shape. The
 * generation lowering (decode.ts) runs it once per pass with its own
 * attention (over a KV cache) and positions.
 */
export class CausalLMLowering {
  readonly g: GraphBuilder;
  readonly grads: GradTracker;
  readonly ctx: LinearContext;
  readonly adapted: Map<string, MixedEntry[]>;
  readonly embeddingHooks: ReturnType<typeof adaptedEmbeddings>;
  readonly modules: Map<string, ModuleNode>;
  /** The adapter filling the input site (virtual tokens before each sequence), if any. */
  readonly inputAdapter: InputEntry | undefined;
  /** Rows of the residual stream: batch · seqLen, virtual tokens included. */
  readonly tokens: number;
  /** The model family's forward, written with this toolkit. */
  readonly forward: FamilyForward;
  /** Backward emitters, in forward order (run in reverse). */
  private readonly backward: (() => void)[] = [];
  /** Activations the backward recomputes rather than keeps: how to emit the recomputation, replaced by its buffer once emitted. */
  private readonly recompute = new Map<string, string | (() => string)>();
  /** Outputs of frozen linears: their backward reads only the gradient, so the value is free once its other readers are done. */
  private readonly frozenOutputs = new Set<string>();

  /**
   * @param g the graph to add to
   * @param adapterIndex the i32 [sequences] input naming each sequence's adapter, for a mixed graph
   */
  constructor(readonly input: LoweringInput, g: GraphBuilder, readonly adapterIndex?: string) {
    this.g = g;
    this.grads = new GradTracker(this.g);
    this.ctx = { g: this.g, grads: this.grads, device: input.device };
    if (input.mixed && input.optimizer) throw new UserError("a mixed-adapter batch is for evaluation and generation; train one adapter at a time");
    if (input.mixed && !adapterIndex) throw new Error("graph: a mixed-adapter lowering needs the adapter index buffer");
    this.adapted = adaptedModules(input.plan, Boolean(input.mixed));
    this.embeddingHooks = adaptedEmbeddings(input.plan, Boolean(input.mixed));
    this.modules = new Map(input.tree.modules.map((m) => [m.path, m]));
    this.inputAdapter = inputEntry(input.plan, Boolean(input.mixed));
    this.tokens = input.batch * input.seqLen;
    this.forward = familyForward(input.tree.family);
  }

  module(path: string): ModuleNode {
    const m = this.modules.get(path);
    if (!m) throw new Error(`graph: no module ${path}`);
    return m;
  }

  /**
   * Whether a frozen linear's weight stays in its checkpoint's 16 bits on the
   * GPU: in training graphs (where memory is tight and the widening pass is
   * small beside the step), for weights no other module shares.
   */
  packedOf(m: ModuleNode): Packed16 | undefined {
    // Training graphs only: a merge phase changes the f32 weights, which a packed copy would not see.
    if (!this.input.packedWeights || !this.g.training || m.tiedTo || this.input.tree.modules.some((o) => o.tiedTo === m.path)) return undefined;
    return m.weight.dtype === "BF16" ? "bf16" : m.weight.dtype === "F16" ? "f16" : undefined;
  }

  weightOf(m: ModuleNode): string {
    return this.g.weight(m.weight.name, m.weight.shape);
  }

  /**
   * The forward value of `activation` for a backward op: recomputed once, at
   * its first use in the backward, when it has a recipe; otherwise the forward's buffer.
   */
  valueInBackward(activation: string): string {
    const recipe = this.recompute.get(activation);
    if (typeof recipe !== "function") return recipe ?? activation;
    const value = recipe();
    this.recompute.set(activation, value);
    return value;
  }

  onBackward(emit: () => void): void {
    this.backward.push(emit);
  }

  emitBackward(): void {
    for (const emit of [...this.backward].reverse()) emit();
  }

  /**
   * A linear layer: the adapter's hook when adapted, a GEMM otherwise.
   * `recomputeInBackward`: a frozen layer's output is made again from its input when the backward reads it, rather than kept.
   */
  linear(path: string, x: string, y: string, options: { recomputeInBackward?: boolean } = {}): string {
    const m = this.module(path);
    const layout = m.kind === "conv1d" ? "in_out" : "out_in";
    const entries = this.adapted.get(path);
    if (this.input.mixed && entries) return this.mixedLinear(m, layout, entries, x, y);
    const adapted = entries?.[0];
    const owned = adapted?.hook.ownsWeight ?? false;
    const packed = adapted ? undefined : this.packedOf(m);
    const site: LinearSite = {
      path,
      layout,
      tokens: this.tokens,
      inFeatures: m.inFeatures,
      outFeatures: m.outFeatures,
      x,
      y: this.g.activation(y, [this.tokens, m.outFeatures]),
      weight: owned ? "" : packed ? this.g.packedWeight(m.weight.name, m.weight.shape, packed) : this.weightOf(m),
      ...(m.bias && !owned ? { bias: this.g.weight(m.bias.name, m.bias.shape) } : {}),
      weightTensor: m.weight.name,
      ...(m.bias ? { biasTensor: m.bias.name } : {}),
    };
    if (adapted) adapted.hook.forward(site, adapted.module, { ...this.ctx, adapter: adapted.adapter });
    else if (packed) packedLinearForward(site, this.ctx, packed);
    else plainLinearForward(site, this.ctx);
    if (!adapted) {
      this.frozenOutputs.add(site.y);
      if (options.recomputeInBackward) {
        this.recompute.set(site.y, () => {
          const again = { ...site, x: this.valueInBackward(x), y: this.g.activation(`${site.y}.recomputed`, [this.tokens, m.outFeatures]) };
          if (packed) packedLinearForward(again, this.ctx, packed, "backward");
          else plainLinearForward(again, this.ctx, "backward");
          return again.y;
        });
      }
    }
    this.grads.propagate(site.y, [x], Boolean(adapted));
    this.onBackward(() => {
      if (!this.grads.needs(site.y)) return;
      const dy = this.grads.read(site.y);
      const dx = this.grads.needs(x) ? this.grads.contribute(x) : undefined;
      if (adapted) adapted.hook.backward({ ...site, x: this.valueInBackward(x) }, adapted.module, { ...this.ctx, adapter: adapted.adapter }, dy, dx);
      else if (dx && packed) packedLinearBackward(site, this.ctx, packed, dy, dx);
      else if (dx) plainLinearBackward(site, this.ctx, dy, dx);
    });
    return site.y;
  }

  /** A linear layer adapted per row in a mixed batch (forward only: mixed graphs do not train). */
  private mixedLinear(m: ModuleNode, layout: LinearSite["layout"], entries: MixedEntry[], x: string, y: string): string {
    const site: LinearSite = {
      path: m.path,
      layout,
      tokens: this.tokens,
      inFeatures: m.inFeatures,
      outFeatures: m.outFeatures,
      x,
      y: this.g.activation(y, [this.tokens, m.outFeatures]),
      weight: this.weightOf(m),
      ...(m.bias ? { bias: this.g.weight(m.bias.name, m.bias.shape) } : {}),
      weightTensor: m.weight.name,
      ...(m.bias ? { biasTensor: m.bias.name } : {}),
    };
    mixedLinearForward(site, entries, {
      ...this.ctx, adapterIndex: this.adapterIndex!, rowsPerIndex: this.input.seqLen, generic: this.input.mixed?.generic ?? false,
    });
    return site.y;
  }

  norm(path: string, x: string, out: string): string {
    const m = this.module(path);
    const kind = m.norm ?? "rms";
    const D = m.outFeatures;
    const shape = { kind, rows: this.tokens, D, eps: this.input.tree.config.normEps };
    const y = this.g.activation(out, [this.tokens, D]);
    const rstd = this.g.activation(`${out}.rstd`, [this.tokens]);
    const mean = kind === "layer" ? this.g.activation(`${out}.mean`, [this.tokens]) : undefined;
    const w = this.weightOf(m);
    const b = m.bias ? this.g.weight(m.bias.name, m.bias.shape) : undefined;
    this.g.op("forward", normForward(shape, this.input.device), { x, w, y, rstdOut: rstd, ...(b ? { b } : {}), ...(mean ? { mean } : {}) }, `${path} forward`);
    this.grads.propagate(y, [x]);
    // An adapted linear reading y in its backward gets y again from x (kept for this norm's backward anyway):
    // one cheap pass in place of holding [tokens, D] from the forward to the backward.
    this.recompute.set(y, () => {
      const again = this.g.activation(`${out}.recomputed`, [this.tokens, D]);
      const rstdAgain = this.g.activation(`${out}.recomputed.rstd`, [this.tokens]);
      const meanAgain = mean ? this.g.activation(`${out}.recomputed.mean`, [this.tokens]) : undefined;
      this.g.op("backward", normForward(shape, this.input.device), { x: this.valueInBackward(x), w, y: again, rstdOut: rstdAgain, ...(b ? { b } : {}), ...(meanAgain ? { mean: meanAgain } : {}) }, `${path} forward again`);
      return again;
    });
    this.onBackward(() => {
      if (!this.grads.needs(y) || !this.grads.needs(x)) return;
      const dx = this.grads.contribute(x);
      this.g.op("backward", normBackward(shape, this.input.device, dx.accumulate), {
        dy: this.grads.read(y), x, w, rstdIn: rstd, dx: dx.buffer, ...(mean ? { mean } : {}),
      }, `${path} backward dx`);
    });
    return y;
  }

  /** out = a + b, whose gradient passes to both unchanged: the same buffer, no op. */
  residual(a: string, b: string, out: string, label: string): string {
    const y = this.g.activation(out, [this.tokens, this.input.tree.config.hiddenSize]);
    this.g.op("forward", elementwise({ op: "add" }, this.g.get(y).size, this.input.device), { a, b, out: y }, label);
    this.grads.propagate(y, [a, b]);
    this.onBackward(() => {
      if (!this.grads.needs(y)) return;
      // `b` (a branch's output) has no other reader; `a` (the residual stream) does,
      // but its other contributions come later in the backward, after every reader of this gradient.
      if (this.grads.needs(b)) this.grads.alias(b, y);
      if (this.grads.needs(a)) this.grads.alias(a, y);
    });
    return y;
  }

  /** Causal attention over q, k, v [tokens, heads·D], (rotated first for RoPE models). */
  attention(layer: number, q: string, k: string, v: string): string {
    const c = this.input.tree.config;
    const device = this.input.device;
    let qIn = q;
    let kIn = k;
    if (c.ropeTheta !== null) {
      for (const [name, heads] of [[q, c.heads], [k, c.kvHeads]] as const) {
        const shape = { batch: this.input.batch, T: this.input.seqLen, heads, headDim: c.headDim, theta: c.ropeTheta };
        const rotated = this.g.activation(`${name}.rope`, [this.tokens, heads * c.headDim]);
        this.g.op("forward", rope(shape, device), { x: name, y: rotated }, `block ${layer} rope`, { posOffset: 0 });
        this.grads.propagate(rotated, [name]);
        this.onBackward(() => {
          if (!this.grads.needs(rotated) || !this.grads.needs(name)) return;
          const dx = this.grads.contribute(name);
          if (dx.accumulate) throw new Error("graph: rope input with two readers");
          // The inverse rotation maps dy to dx.
          this.g.op("backward", rope(shape, device, true), { x: this.grads.read(rotated), y: dx.buffer }, `block ${layer} rope backward`, { posOffset: 0 });
        });
        if (name === q) qIn = rotated;
        else kIn = rotated;
      }
    }
    const shape = { batch: this.input.batch, Tq: this.input.seqLen, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim };
    const out = this.g.activation(`blocks.${layer}.attn.out`, [this.tokens, c.heads * c.headDim]);
    const lse = this.g.activation(`blocks.${layer}.attn.lse`, [this.input.batch * c.heads * this.input.seqLen]);
    this.g.plan("forward", attentionForwardPlan(shape, device), { q_in: qIn, k_in: kIn, v_in: v, out, lse }, `block ${layer} attention`);
    this.grads.propagate(out, [qIn, kIn, v]);
    this.onBackward(() => {
      if (!this.grads.needs(out)) return;
      const wantQ = this.grads.needs(qIn);
      const wantKV = this.grads.needs(kIn) || this.grads.needs(v);
      const plan = attentionBackwardPlan(shape, device, wantKV);
      const dq = wantQ ? this.grads.contribute(qIn).buffer : this.g.activation(`blocks.${layer}.attn.dq_unused`, [this.tokens, c.heads * c.headDim]);
      const bind: Record<string, string> = { q: qIn, k: kIn, v, out, lse, dout: this.grads.read(out), dq };
      if (wantKV) {
        bind.dk = this.grads.needs(kIn) ? this.grads.contribute(kIn).buffer : this.g.activation(`blocks.${layer}.attn.dk_unused`, [this.tokens, c.kvHeads * c.headDim]);
        bind.dv = this.grads.needs(v) ? this.grads.contribute(v).buffer : this.g.activation(`blocks.${layer}.attn.dv_unused`, [this.tokens, c.kvHeads * c.headDim]);
      }
      this.g.plan("backward", plan, bind, `block ${layer} attention backward`);
    });
    return out;
  }

  /** SiLU(gate)·up; the backward reads gate and up as valueInBackward gives them (recomputed copies, under gradient checkpointing). */
  swiglu(gate: string, up: string, out: string, l: number): string {
    const size = this.g.get(gate).size;
    const h = this.g.activation(out, this.g.get(gate).shape);
    this.g.op("forward", elementwise({ op: "swiglu" }, size, this.input.device), { gate, up, out: h }, `block ${l} swiglu`);
    this.grads.propagate(h, [gate, up]);
    this.onBackward(() => {
      if (!this.grads.needs(h) || (!this.grads.needs(gate) && !this.grads.needs(up))) return;
      const saved = { gate: this.valueInBackward(gate), up: this.valueInBackward(up) };
      if (this.frozenOutputs.has(gate) && this.frozenOutputs.has(up) && !this.grads.has(gate) && !this.grads.has(up)) {
        // Their frozen projections' backward reads only the gradients: gate and up die here, so their gradients take their place.
        this.grads.overwrite(gate, saved.gate);
        this.grads.overwrite(up, saved.up);
        this.g.op("backward", elementwise({ op: "swiglu_backward_inplace" }, size, this.input.device), {
          dout: this.grads.read(h), gate: saved.gate, up: saved.up,
        }, `block ${l} swiglu backward (in place)`);
        return;
      }
      const dgate = this.grads.contribute(gate);
      const dup = this.grads.contribute(up);
      if (dgate.accumulate || dup.accumulate) throw new Error("graph: swiglu inputs with two readers");
      this.g.op("backward", elementwise({ op: "swiglu_backward" }, size, this.input.device), {
        dout: this.grads.read(h), gate: saved.gate, up: saved.up, dgate: dgate.buffer, dup: dup.buffer,
      }, `block ${l} swiglu backward`);
    });
    return h;
  }

  /** Whether an MLP of these linears can be recomputed in the backward: nothing in it trains. */
  recomputable(mlp: string[]): boolean {
    return (this.input.recompute ?? false) && mlp.every((m) => !this.adapted.has(m));
  }

  gelu(x: string, out: string, l: number): string {
    const size = this.g.get(x).size;
    const y = this.g.activation(out, this.g.get(x).shape);
    this.g.op("forward", elementwise({ op: "gelu" }, size, this.input.device), { a: x, out: y }, `block ${l} gelu`);
    this.grads.propagate(y, [x]);
    this.onBackward(() => {
      if (!this.grads.needs(y) || !this.grads.needs(x)) return;
      const a = this.valueInBackward(x);
      if (this.frozenOutputs.has(x) && !this.grads.has(x)) {
        // The frozen c_fc's backward reads only the gradient: its output dies here, and its gradient takes its place.
        this.g.op("backward", elementwise({ op: "gelu_backward_inplace" }, size, this.input.device), { a: this.grads.overwrite(x, a), dout: this.grads.read(y) }, `block ${l} gelu backward (in place)`);
        return;
      }
      const dx = this.grads.contribute(x);
      if (dx.accumulate) throw new Error("graph: gelu input with two readers");
      this.g.op("backward", elementwise({ op: "gelu_backward" }, size, this.input.device), { a, dout: this.grads.read(y), out: dx.buffer }, `block ${l} gelu backward`);
    });
    return y;
  }

  /** Each token's position in its sequence (i32 [tokens]), for learned position embeddings. */
  positionIds(): string {
    return this.g.constant("positions", Array.from({ length: this.tokens }, (_, t) => t % this.input.seqLen), "i32");
  }

  /** Hands an embedding's gathered rows to the hook of the adapter adapting it, if any; its backward takes their gradient. */
  adaptEmbedding(m: ModuleNode, ids: string, y: string): void {
    const entries = this.embeddingHooks.get(m.path);
    if (!entries) return;
    const site = { path: m.path, tokens: this.tokens, vocab: m.inFeatures, dim: m.outFeatures, ids, table: this.weightOf(m), y };
    if (this.input.mixed) {
      this.mixedEmbedding(site, entries);
      return;
    }
    const adapted = entries[0]!;
    const ctx = { ...this.ctx, adapter: adapted.adapter };
    adapted.hook.forward(site, adapted.module, ctx);
    this.grads.propagate(y, [], true);
    this.onBackward(() => {
      if (this.grads.has(y)) adapted.hook.backward(site, adapted.module, ctx, this.grads.read(y));
    });
  }

  /**
   * An embedding of a mixed graph: each adapter's hook over a copy of the
   * gathered rows, whose rows of that adapter's sequences are copied back
   * (as the linear layers' generic fallback does).
   */
  private mixedEmbedding(site: EmbeddingSite, entries: EmbeddingEntry[]): void {
    const { g, device } = this.ctx;
    const ctx = { ...this.ctx, adapterIndex: this.adapterIndex!, rowsPerIndex: this.input.seqLen };
    perAdapterRows({ path: site.path, y: site.y, rows: site.tokens, width: site.dim }, entries, ctx, (e, y) => {
      g.op("forward", elementwise({ op: "scale", alpha: 1 }, site.tokens * site.dim, device), { a: site.y, out: y }, `${site.path} rows for adapter ${e.adapter.name}`);
      e.hook.forward({ ...site, y }, e.module, { ...this.ctx, adapter: e.adapter });
    });
  }

  /**
   * An embedding table's rows for `ids`: [tokens, hidden]. In the forward, an
   * adapter's embedding hook may add to them; "backward" gathers them again for a recomputation.
   */
  embedTokens(m: ModuleNode, ids: string, out: string, label: string, phase: "forward" | "backward"): string {
    const y = this.g.activation(out, [this.tokens, this.input.tree.config.hiddenSize]);
    const shape = { tokens: this.tokens, vocab: m.inFeatures, D: this.input.tree.config.hiddenSize };
    this.g.op(phase, embeddingForward(shape, this.input.device), { ids, table: this.weightOf(m), out: y }, phase === "forward" ? label : `${label} again`);
    if (phase === "forward") this.adaptEmbedding(m, ids, y);
    return y;
  }

  /**
   * The input site, which a family's forward applies to its token embeddings
   * (before learned positions are added): a prompt method's virtual tokens go
   * into the first rows of each sequence. Without one, x itself.
   */
  inputSite(x: string, table: ModuleNode): string {
    if (!this.inputAdapter) return x;
    return addPrompts(this.inputAdapter, { ...this.ctx, onBackward: (emit) => this.onBackward(emit) }, x, table.weight.name, this.input.batch, this.input.seqLen);
  }

  /** The input embeddings of `ids`, through every block of the model's family: the last block's output. */
  trunk(ids: string): string {
    const forward = this.forward;
    const embed = (phase: "forward" | "backward", suffix: string) => forward.embed(this, ids, phase, suffix);
    let x = embed("forward", "");
    // A gather is cheaper to repeat than [tokens, hidden] is to keep until the backward needs it (to recompute the first normed input);
    // an adapted embedding's output is kept instead.
    if (this.embeddingHooks.size === 0 && !this.inputAdapter) this.recompute.set(x, () => embed("backward", ".recomputed"));
    if (this.input.backwardToInputs) this.grads.mark(x);
    for (let l = 0; l < this.input.tree.config.layers; l++) x = forward.block(this, l, x);
    return x;
  }

  /** The final norm and the language-model head: logits [tokens, vocab]. */
  head(x: string): string {
    const final = this.norm(this.forward.finalNorm, x, "final.norm");
    return this.linear("lm_head", final, "logits");
  }
}

/**
 * The training and evaluation graph. `input.seqLen` counts the data's tokens;
 * a prompt method's virtual tokens come on top (the graph's seqLen and
 * io.virtualTokens say how many rows each sequence has).
 */
export function lowerCausalLM(request: LoweringInput): { graph: Graph; wgsl: Map<string, string> } {
  const virtualTokens = request.mixed ? 0 : virtualTokensOf(request.plan);
  const maxPositions = request.tree.config.maxPositions;
  if (virtualTokens > 0 && request.seqLen + virtualTokens > maxPositions) {
    throw new UserError(`${request.seqLen} tokens and ${virtualTokens} virtual tokens a sequence are more than the model's ${maxPositions} positions`);
  }
  const input = virtualTokens > 0 ? { ...request, seqLen: request.seqLen + virtualTokens } : request;
  const tokens = input.batch * input.seqLen;
  const g = new GraphBuilder(input.batch, input.seqLen, input.optimizer?.weightDecay ?? 0, Boolean(input.optimizer) || Boolean(input.backwardToInputs));
  const ids = g.input("ids", [tokens], "i32");
  const labels = g.input("labels", [tokens], "i32");
  const adapterIndex = input.mixed ? g.input("adapter_index", [input.batch], "i32") : undefined;
  const L = new CausalLMLowering(input, g, adapterIndex);
  const { grads } = L;
  const { tree, device } = input;
  const c = tree.config;
  const logits = L.head(L.trunk(ids));

  // Loss: per-token cross-entropy and, when training, its gradient over the logits in the same pass.
  const loss = g.activation("loss", [tokens]);
  const lossOnly = crossEntropy({ tokens, vocab: c.vocabSize, gradient: false }, device);
  // Training: the logits die in the loss, so their gradient takes their place ([tokens, vocab], the largest activation of a large vocabulary).
  const training = g.training && grads.needs(logits) && !grads.has(logits);
  if (training) {
    grads.overwrite(logits);
    g.op("loss", crossEntropy({ tokens, vocab: c.vocabSize, inPlace: true }, device), { logits, labels, loss }, "cross-entropy", { gradScale: { scalar: "gradScale" } });
  } else {
    g.op("loss", lossOnly, { logits, labels, loss }, "cross-entropy");
  }
  g.phases.eval.push(...g.phases.forward);
  g.op("eval", lossOnly, { logits, labels, loss }, "cross-entropy");

  let params: string | null = null;
  let gradSumSq: string | null = null;
  if (input.backwardToInputs && g.trainedElements === 0) L.emitBackward();
  if (g.trainedElements > 0 && input.optimizer) {
    L.emitBackward();
    const opt = input.optimizer;
    params = "params";
    const segments = g.trainedTensors.map((t) => ({ offset: t.offset, length: t.size, weightDecay: t.weightDecay }));
    const table = g.constant("adam.segments", [...adamwSegmentTable(segments)], "u32");
    const clip = opt.maxGradNorm > 0;
    gradSumSq = g.activation("grad.sumsq", [1]);
    const flat = g.flatBuffers();
    const count = g.trainedElements;
    g.plan("optimizer", sumSquares(count, device), { x: flat.grads, out: gradSumSq }, "gradient norm");
    g.op("optimizer", adamw({ count, segmentCount: segments.length, clip }, device),
      { param: flat.params, grad: flat.grads, m: flat.m, v: flat.v, segments: table, ...(clip ? { gradSumSq } : {}) },
      "adamw", {
        lr: { scalar: "lr" }, step: { scalar: "step" }, beta1: opt.beta1, beta2: opt.beta2, eps: opt.eps,
        gradScale: 1, maxNorm: opt.maxGradNorm,
      });
  }
  if (input.merge) mergeInto(g, input);
  // A training run's logits hold their gradient after the loss: the host reads them from evaluation graphs only.
  const io = { ids, labels, loss, logits, params, grads: params ? "grads" : null, gradSumSq, ...(adapterIndex ? { adapterIndex } : {}), ...(virtualTokens > 0 ? { virtualTokens } : {}) };
  return g.finish(io, params ? ["grads"] : [], training ? [logits] : []);
}

/** The merge and unmerge phases of input.merge, over the weights of a graph whose plan adapts nothing. */
export function mergeInto(g: GraphBuilder, input: Pick<LoweringInput, "tree" | "plan" | "device" | "merge" | "optimizer">): void {
  if (input.plan.adapters.length > 0) throw new Error("graph: merged adapters beside adapters the forward runs");
  if (input.optimizer) throw new UserError("merged adapters are for evaluation and generation; train an adapter unmerged");
  emitMerge(g, { tree: input.tree, adapters: input.merge!, device: input.device });
}
