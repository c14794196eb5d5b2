// Embedding gather and its scatter-add backward (for trained embeddings:
// prompt tuning's virtual tokens, selective tuning of embed_tokens).
import { ceilDiv, renderKernel, type BindingDecl } from "./render.js";
import type { DeviceProfile, KernelInstance, KernelPlan } from "./types.js";

export interface EmbeddingShape {
  tokens: number;
  vocab: number;
  D: number;
  /** The table is stored [D, vocab] (a LoRA embedding's A): an id picks a column. */
  transposed?: boolean;
}

const WG = 64;

/** Columns along x, tokens split over y and z so each stays under 65535. */
function grid(shape: EmbeddingShape) {
  const rowsPerY = Math.min(shape.tokens, 65535);
  return { rowsPerY, dispatch: [ceilDiv(shape.D, WG), ceilDiv(shape.tokens, rowsPerY), rowsPerY] as [number, number, number] };
}

/** Tensors: ids (i32) [tokens], table [vocab, D] (or [D, vocab], transposed) → out [tokens, D]. */
export function embeddingForward(shape: EmbeddingShape, _device: DeviceProfile): KernelInstance {
  const { rowsPerY, dispatch } = grid(shape);
  const bindings: BindingDecl[] = [
    { name: "ids", access: "read", type: "i32" },
    { name: "table", access: "read", type: "f32" },
    { name: "out", access: "read_write", type: "f32" },
  ];
  const kernel = renderKernel({
    family: "embedding",
    template: "embedding.wgsl.hbs",
    variant: shape.transposed ? "gather_columns" : "gather",
    reason: "one invocation per output element",
    spec: { ...shape, transposed: shape.transposed ?? false },
    view: { ...shape, transposed: shape.transposed ?? false, WG, rowsPerY },
    workgroupSize: [WG, 1, 1],
    bindings,
  });
  return { kernel, dispatch };
}

/** Tensors: ids, dout [tokens, D], dtable [vocab, D] (or [D, vocab], transposed; added into). Scratch: links (2 per token). */
export function embeddingBackward(shape: EmbeddingShape, _device: DeviceProfile): KernelPlan {
  const links = renderKernel({
    family: "embedding",
    template: "embedding_backward_links.wgsl.hbs",
    variant: "backward_links",
    reason: "O(tokens²) id comparisons, once per step",
    spec: { tokens: shape.tokens },
    view: { tokens: shape.tokens, WG },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "ids", access: "read", type: "i32" },
      { name: "links", access: "read_write", type: "vec2u" },
    ],
  });
  const { rowsPerY, dispatch } = grid(shape);
  const scatter = renderKernel({
    family: "embedding",
    template: "embedding_backward.wgsl.hbs",
    variant: shape.transposed ? "backward_scatter_columns" : "backward_scatter",
    reason: "one invocation per (distinct id, column), summing in token order",
    spec: { ...shape, transposed: shape.transposed ?? false },
    view: { ...shape, transposed: shape.transposed ?? false, WG, rowsPerY },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "ids", access: "read", type: "i32" },
      { name: "links", access: "read", type: "vec2u" },
      { name: "dout", access: "read", type: "f32" },
      { name: "dtable", access: "read_write", type: "f32" },
    ],
  });
  return {
    steps: [
      { instance: { kernel: links, dispatch: [ceilDiv(shape.tokens, WG), 1, 1] }, bind: { ids: "ids", links: "links" } },
      { instance: { kernel: scatter, dispatch }, bind: { ids: "ids", links: "links", dout: "dout", dtable: "dtable" } },
    ],
    scratch: { links: 2 * shape.tokens },
  };
}
