// Causal attention of a run's queries over a KV cache (generation). Each
// query row carries its position p: it attends cache slots 0..p of its
// sequence, which the run has already appended to (its own key included).
// Positions come from a buffer, so the sequences of a batch may stand at
// different positions and the key count grows with no recompilation; padding
// rows (p = −1) get zeros.
import { ceilDiv, renderKernel, wgslF32 } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

export interface CachedAttentionShape {
  batch: number;
  /** Query rows per sequence in one run (a prefill chunk, or 1 when decoding). */
  T: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Positions the cache holds per sequence. */
  capacity: number;
  /** 1/sqrt(headDim) unless the model says otherwise. */
  scale?: number;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Tensors: q_in [batch·T, heads·D], k_cache, v_cache [batch, capacity,
 * kvHeads·D], positions (i32) [batch·T] → out [batch·T, heads·D].
 */
export function attentionCached(shape: CachedAttentionShape, device: DeviceProfile): KernelInstance {
  const { batch, T, heads: H, kvHeads: Hkv, headDim: D, capacity } = shape;
  if (H % Hkv !== 0) throw new Error(`attention: ${H} heads are not a multiple of ${Hkv} kv heads`);
  const rows = batch * T;
  const vec4 = D % 4 === 0;
  const DV = vec4 ? D / 4 : D;
  const type = vec4 ? "vec4f" : "f32";
  const scale = shape.scale ?? 1 / Math.sqrt(D);
  // Few query rows when decoding: small workgroups, so that heads spread over threads.
  const WG = device.kind === "cpu" ? 16 : 64;
  const spec = { batch, T, H, Hkv, D, capacity, scale, WG };
  // Head rows unrolled into named values: private arrays indexed in a loop are memory on CPU adapters.
  const d = range(DV);
  const dot = (a: string, b: string) => d.map((i) => `dotT(${a}${i}, ${b}${i})`).join(" + ");
  const view = {
    ...spec,
    rows,
    group: H / Hkv,
    DV,
    TSEQ: T,
    TV: type,
    vec4,
    scaleLit: wgslF32(scale),
    setup: d.flatMap((i) => [`let q${i} = q_in[qBase + ${i}u] * SCALE;`, `var o${i} = TV(0.0);`]),
    loads: d.flatMap((i) => [`let k${i} = k_cache[kBase + ${i}u];`, `let v${i} = v_cache[kBase + ${i}u];`]),
    score: `let s = ${dot("q", "k")};`,
    update: d.map((i) => `o${i} = o${i} * correction + p * v${i};`),
    store: d.map((i) => `out[qBase + ${i}u] = o${i} * inv;`),
    zero: d.map((i) => `out[qBase + ${i}u] = TV(0.0);`),
  };
  const kernel = renderKernel({
    family: "attention",
    template: "attention_cached.wgsl.hbs",
    variant: "cached",
    reason: "one invocation per (query row, head), online softmax over the row's cached keys",
    spec,
    view,
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "q_in", access: "read", type },
      { name: "k_cache", access: "read", type },
      { name: "v_cache", access: "read", type },
      { name: "positions", access: "read", type: "i32" },
      { name: "out", access: "read_write", type },
    ],
  });
  return { kernel, dispatch: [ceilDiv(rows, WG), H, 1] };
}
