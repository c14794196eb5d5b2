// The generation graph of a causal LM: the model's own blocks (causal-lm.ts)
// run in two passes over one set of weights and a KV cache kept on the GPU.
//
//   prefill  chunk tokens per sequence: embed, every block appends its keys
//            and values to the cache and attends over it, then the last row
//            of each sequence goes through the final norm and the LM head
//   decode   one token per sequence, the same way, reading the cached prefix
//
// Token positions come from the host (an i32 per token, −1 for padding), so
// the sequences of a batch may stand at different positions: prompts of
// different lengths are left-padded to whole chunks and all end on a chunk's
// last row, and the prefix is never recomputed. Logits land in one buffer
// [batch, vocab] whichever pass ran; sampling is the host's.
import { attentionCached } from "../codegen/attention_cached.js";
import { elementwise } from "../codegen/elementwise.js";
import { embeddingForward } from "../codegen/embedding.js";
import { kvAppend } from "../codegen/kv_cache.js";
import { rope } from "../codegen/rope.js";
import type { DeviceProfile } from "../codegen/types.js";
import { UserError } from "../errors.js";
import type { ModelTree } from "../models/types.js";
import type { Plan } from "../resolve/plan-types.js";
import { GraphBuilder } from "./builder.js";
import { CausalLMLowering, mergeInto, type LoweringInput } from "./causal-lm.js";
import { inputEntry } from "./input-site.js";
import type { Graph } from "./types.js";

export interface DecodeLoweringInput {
  tree: ModelTree;
  plan: Plan;
  device: DeviceProfile;
  /** Sequences generated together. */
  batch: number;
  /** Prompt tokens per sequence in one prefill run. */
  chunk: number;
  /** Positions the KV cache holds per sequence (prompt and generated tokens). */
  capacity: number;
  /** Each sequence with its own adapter (or none): see LoweringInput.mixed. */
  mixed?: { generic?: boolean };
  /** Adapters folded into the weights by the merge phase: see LoweringInput.merge. */
  merge?: LoweringInput["merge"];
}

interface CacheIo {
  positions: string;
  capacity: number;
  /** Per layer: keys and values, [batch, capacity, kvHeads·headDim]. */
  layers: { k: string; v: string }[];
}

/** One pass of the generation graph: the blocks of causal-lm.ts with attention over the KV cache. */
class CachedPass extends CausalLMLowering {
  constructor(input: LoweringInput, g: GraphBuilder, adapterIndex: string | undefined, private readonly cache: CacheIo) {
    super(input, g, adapterIndex);
  }

  /** GPT-2's learned positions are the tokens' positions, as the host wrote them (padding, −1, embeds to zeros). */
  override positionIds(): string {
    return this.cache.positions;
  }

  /** RoPE at each token's position, the new keys and values into the cache, then attention over it. */
  override attention(layer: number, q: string, k: string, v: string): string {
    const c = this.input.tree.config;
    const { device, batch } = this.input;
    const T = this.input.seqLen;
    const positions = this.cache.positions;
    let qIn = q;
    let kIn = k;
    if (c.ropeTheta !== null) {
      [qIn, kIn] = ([[q, c.heads], [k, c.kvHeads]] as const).map(([name, heads]) => {
        const rotated = this.g.activation(`${name}.rope`, [this.tokens, heads * c.headDim]);
        this.g.op("forward", rope({ batch, T, heads, headDim: c.headDim, theta: c.ropeTheta!, positions: true }, device),
          { x: name, positions, y: rotated }, `block ${layer} rope`);
        return rotated;
      }) as [string, string];
    }
    const { k: kCache, v: vCache } = this.cache.layers[layer]!;
    const append = kvAppend({ batch, T, width: c.kvHeads * c.headDim, capacity: this.cache.capacity }, device);
    this.g.op("forward", append, { x: kIn, positions, cache: kCache }, `block ${layer} cache keys`);
    this.g.op("forward", append, { x: v, positions, cache: vCache }, `block ${layer} cache values`);
    const out = this.g.activation(`blocks.${layer}.attn.out`, [this.tokens, c.heads * c.headDim]);
    const shape = { batch, T, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, capacity: this.cache.capacity };
    this.g.op("forward", attentionCached(shape, device), { q_in: qIn, k_cache: kCache, v_cache: vCache, positions, out }, `block ${layer} attention`);
    return out;
  }
}

export function lowerDecode(input: DecodeLoweringInput): { graph: Graph; wgsl: Map<string, string> } {
  const { tree, batch: B, chunk: C, capacity, device } = input;
  const c = tree.config;
  const prompt = inputEntry(input.plan, Boolean(input.mixed));
  // The virtual tokens belong in the KV cache before the prompt; until a pass puts them there, refuse rather than add them to every chunk.
  if (prompt) throw new UserError(`generating with ${prompt.adapter.method} adapters is not supported yet (adapter '${prompt.adapter.name}'); peftc eval and train run them`);
  if (capacity > c.maxPositions) throw new UserError(`the KV cache cannot hold ${capacity} positions: the model has ${c.maxPositions}`);
  if (C > capacity) throw new Error(`graph: a prefill chunk of ${C} tokens is longer than the cache (${capacity})`);
  const g = new GraphBuilder(B, C, 0, false);
  const ids = g.input("ids", [B * C], "i32");
  const positions = g.input("positions", [B * C], "i32");
  const adapterIndex = input.mixed ? g.input("adapter_index", [B], "i32") : undefined;
  const kvWidth = c.kvHeads * c.headDim;
  const cache: CacheIo = {
    positions,
    capacity,
    layers: Array.from({ length: c.layers }, (_, l) => ({ k: g.cache(`kv.${l}.k`, [B, capacity, kvWidth]), v: g.cache(`kv.${l}.v`, [B, capacity, kvWidth]) })),
  };
  const logits = g.activation("generate.logits", [B, c.vocabSize]);
  const base: Omit<LoweringInput, "batch" | "seqLen"> = { tree, plan: input.plan, device, ...(input.mixed ? { mixed: input.mixed } : {}) };
  const pass = (T: number) => () => {
    let x = new CachedPass({ ...base, batch: B, seqLen: T }, g, adapterIndex, cache).trunk(ids);
    if (T > 1) {
      // Only each sequence's last row goes on: the LM head over a whole chunk would be wasted.
      const last = g.constant(`generate.last.${T}`, Array.from({ length: B }, (_, b) => b * T + T - 1), "i32");
      const rows = g.activation("generate.last_rows", [B, c.hiddenSize]);
      g.op("forward", embeddingForward({ tokens: B, vocab: B * T, D: c.hiddenSize }, device), { ids: last, table: x, out: rows }, "last rows");
      x = rows;
    }
    const out = new CachedPass({ ...base, batch: B, seqLen: 1 }, g, adapterIndex, cache).head(x);
    g.op("forward", elementwise({ op: "scale", alpha: 1 }, B * c.vocabSize, device), { a: out, out: logits }, "logits out");
  };
  g.pass("prefill", pass(C));
  g.pass("decode", pass(1));
  if (input.merge) mergeInto(g, input);
  return g.finish({
    ids: null, labels: null, loss: null, logits: null,
    params: g.trainedElements > 0 ? "params" : null, grads: null, gradSumSq: null,
    ...(adapterIndex ? { adapterIndex } : {}),
    generate: { ids, positions, logits, chunk: C, capacity },
  }, []);
}
