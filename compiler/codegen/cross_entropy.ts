// Cross-entropy over the vocabulary fused with its softmax and gradient, with
// Hugging Face's label mask (−100, or any label outside the vocabulary).
import { ceilDiv, renderKernel, type BindingDecl } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

export interface CrossEntropyShape {
  tokens: number;
  vocab: number;
  /** Write the gradient over the logits. */
  inPlace?: boolean;
  /** false: the loss alone (evaluation), no gradient written anywhere. */
  gradient?: boolean;
}

const WG = 64;

/**
 * Tensors: logits [tokens, vocab], labels (i32) [tokens] → loss [tokens],
 * dlogits [tokens, vocab] (or logits, in place). Params: gradScale, usually
 * 1 / (number of unmasked tokens in the batch), known to the host.
 */
export function crossEntropy(shape: CrossEntropyShape, _device: DeviceProfile): KernelInstance {
  const gradient = shape.gradient ?? true;
  const inPlace = gradient && (shape.inPlace ?? false);
  const bindings: BindingDecl[] = [
    { name: "logits", access: inPlace ? "read_write" : "read", type: "f32" },
    { name: "labels", access: "read", type: "i32" },
    { name: "loss", access: "read_write", type: "f32" },
  ];
  if (gradient && !inPlace) bindings.push({ name: "dlogits", access: "read_write", type: "f32" });
  if (gradient) bindings.push({ name: "params", access: "uniform" });
  const gx = Math.min(shape.tokens, 65535);
  const spec = { tokens: shape.tokens, V: shape.vocab, inPlace, gradient };
  const kernel = renderKernel({
    family: "cross_entropy",
    template: "cross_entropy.wgsl.hbs",
    variant: !gradient ? "loss_only" : inPlace ? "in_place" : "separate",
    reason: gradient ? "one workgroup per token: online max/sum, then the gradient" : "one workgroup per token: online max/sum",
    spec,
    view: { ...spec, WG, gx, src: "logits", dst: inPlace ? "logits" : "dlogits" },
    workgroupSize: [WG, 1, 1],
    bindings,
    ...(gradient ? { params: [{ name: "gradScale", type: "f32" as const }] } : {}),
  });
  return { kernel, dispatch: [gx, ceilDiv(shape.tokens, gx), 1], ...(gradient ? { params: { gradScale: 1 } } : {}) };
}
