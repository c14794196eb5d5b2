// The graph IR: everything the runtime needs to train, evaluate and merge,
// as plain JSON. Buffers have roles; ops are kernel dispatches over named
// buffers; phases are op lists the runtime runs in order. The runtime reads
// this and nothing else: it knows no method and no model family.
import type { KernelSource } from "../codegen/types.js";

export const GRAPH_VERSION = 1;

export type BufferRole =
  | "weight" // a frozen base tensor, read from the model's checkpoint
  | "parameter" // a trained tensor (a view of the flat parameter buffer)
  | "frozen" // a frozen tensor the adapter adds (VeRA's projections), made at init
  | "gradient" // a view of the flat gradient buffer
  | "optimizer" // AdamW's moments (flat)
  | "activation" // kept from forward to backward, or passed between ops
  | "input" // written by the host before a run: token ids, labels
  | "constant" // data fixed at compile time (AdamW's segment table)
  | "cache"; // kept from run to run, starts at zero: generation's keys and values

export type ElementType = "f32" | "i32" | "u32";

/** How a parameter (or frozen adapter tensor) starts. */
export type InitSpec =
  | { kind: "zeros" }
  | { kind: "ones" }
  | { kind: "constant"; value: number }
  | { kind: "uniform"; bound: number }
  | { kind: "normal"; std: number; mean?: number }
  /**
   * PyTorch's float32 `uniform_(-bound, bound)` from `torch.Generator("cpu").manual_seed(seed)`
   * after `skip` draws, bit for bit: tensors that PEFT makes from a seed (VeRA's projections).
   */
  | { kind: "torch_uniform"; seed: number; bound: number; skip?: number }
  /** A copy of (part of) a base tensor, e.g. LN tuning's trained copy. */
  | { kind: "copy"; from: string }
  /**
   * Rows of an embedding table (a base tensor [vocab, dim]), one per row of
   * the tensor: the tokens of `text` (with the special tokens the model's
   * tokenizer adds), repeated or cut to the row count, or with `sample`,
   * ids drawn uniformly from the vocabulary (PEFT's TEXT and SAMPLE_VOCAB prompt inits).
   */
  | { kind: "embedding_rows"; from: string; dim: number; text?: string; sample?: boolean }
  /** Computed on the GPU by the init phase (DoRA's magnitude: row norms). */
  | { kind: "computed" };

export interface GraphBuffer {
  name: string;
  role: BufferRole;
  type: ElementType;
  /** Element count. */
  size: number;
  shape: number[];
  /** weight: the checkpoint tensor; transposed when the kernel wants the other layout. */
  tensor?: string;
  /**
   * weight: kept as the checkpoint's 16-bit floats, two to a u32 (type u32,
   * size = half the element count, rounded up; shape is the tensor's), for ops
   * that widen it first.
   */
  packed?: "bf16" | "f16";
  /** parameter / gradient / optimizer views: the flat buffer and element offset. */
  view?: { of: string; offset: number };
  init?: InitSpec;
  /** The PEFT key a parameter or frozen tensor is saved under (when it is saved). */
  key?: string;
  /** Which of several adapters in the graph the tensor belongs to (its scope), so saved values come from the right file. */
  origin?: string;
  /** Weight decay applied by AdamW (parameters only). */
  weightDecay?: number;
  /** constant: the values. */
  data?: number[];
  /** activation: the memory slot it shares with others whose lifetimes do not overlap. */
  slot?: number;
}

/** A run-time value an op's params take from the host each run (lr, step, gradScale...). */
export interface ScalarRef {
  scalar: string;
}

export interface GraphOp {
  /** The kernel's key (its WGSL is kernels/<key>.wgsl in a bundle). */
  kernel: string;
  /** Kernel binding name → buffer name. */
  bind: Record<string, string>;
  dispatch: [number, number, number];
  params?: Record<string, number | ScalarRef>;
  /** What the op is, for errors and profiles: "model.layers.3.self_attn.q_proj lora forward". */
  label: string;
}

export type PhaseName =
  | "init" // once, after parameters are filled: computed inits
  | "forward"
  | "loss"
  | "backward"
  | "optimizer"
  | "eval" // forward + loss for evaluation (no gradients kept)
  | "merge" // adapters folded into the loaded weights, in place
  | "unmerge" // and taken out again
  | "prefill" // generation: a chunk of prompt tokens per sequence into the KV cache, logits of each sequence's last
  | "decode"; // generation: one token per sequence, reading the cached keys and values

export const PHASES: readonly PhaseName[] = ["init", "forward", "loss", "backward", "optimizer", "eval", "merge", "unmerge", "prefill", "decode"];

/** The buffers the host uses to generate with a graph that has prefill and decode phases. */
export interface GenerateIo {
  /** i32 [batch·chunk]: the tokens of a run, sequence-major (decode reads the first `batch`). */
  ids: string;
  /** i32, as ids: each token's position in its sequence; −1 marks padding, which writes no cache entry. */
  positions: string;
  /** f32 [batch, vocab]: after a run, the next-token logits of each sequence (prefill: after its chunk's last token). */
  logits: string;
  /** Tokens per sequence in one prefill run. */
  chunk: number;
  /** Positions the KV cache holds per sequence. */
  capacity: number;
}

export interface Graph {
  graph: typeof GRAPH_VERSION;
  /** Sequences per micro-batch and tokens per sequence the graph is built for. */
  batch: number;
  seqLen: number;
  buffers: GraphBuffer[];
  /** Kernels by key, without their WGSL (kept beside the graph). */
  kernels: Record<string, Omit<KernelSource, "wgsl">>;
  phases: Record<PhaseName, GraphOp[]>;
  /** Buffers the host reads or writes by meaning (null where the graph has none: a merge graph reads no tokens). */
  io: {
    ids: string | null;
    labels: string | null;
    /** Per-token losses of the last forward ([batch·seqLen]). */
    loss: string | null;
    logits: string | null;
    /** Flat parameter, gradient and moment buffers (null when nothing trains). */
    params: string | null;
    grads: string | null;
    /** Σ grad² of the last step (for the logged gradient norm). */
    gradSumSq: string | null;
    /**
     * i32 [batch] (a mixed-adapter graph only): which adapter each sequence
     * runs with, as an index into the plan's adapters, −1 for none. The host
     * writes it; methods read it.
     */
    adapterIndex?: string;
    /**
     * Rows before each sequence's tokens that a prompt method fills (the graph's
     * seqLen counts them): the host writes id −1 and an ignored label there.
     */
    virtualTokens?: number;
    /** Present on generation graphs. */
    generate?: GenerateIo;
  };
  /** Gradient buffers to clear before each accumulation window. */
  zeroBeforeStep: string[];
}

/** The token buffers of a graph that reads tokens (training, evaluation). */
export function tokenIo(graph: Graph): { ids: string; labels: string; loss: string; logits: string } {
  const { ids, labels, loss, logits } = graph.io;
  if (!ids || !labels || !loss || !logits) throw new Error("graph: this graph reads no tokens");
  return { ids, labels, loss, logits };
}
