import type { Adaptation, Hyperparameters, MethodTensor, ModuleShape } from "../types.js";
import { KAIMING, trained } from "../tensor.js";

function initOfA(hp: Hyperparameters): string {
  switch (hp.init) {
    case "gaussian":
      return "normal(0, 1/r)";
    case "pissa":
      return "diag(√S[:r]/s)·Vh[:r] of W's SVD";
    case "olora":
      return "R[:r] of W's QR";
    default:
      return KAIMING;
  }
}

function initOfB(hp: Hyperparameters): string {
  switch (hp.init) {
    case "pissa":
      return "U[:, :r]·diag(√S[:r]/s) of W's SVD";
    case "olora":
      return "Q[:, :r] of W's QR";
    case "random":
      return KAIMING;
    default:
      return "zeros";
  }
}

// PEFT saves the base weights of adapted layers with these names beside the
// adapter (save_embedding_layers="auto"), in case the vocabulary was resized.
const EMBEDDING_LAYER_NAMES = ["embed_tokens", "lm_head"];

function savedBaseWeight(m: ModuleShape): MethodTensor[] {
  if (!EMBEDDING_LAYER_NAMES.includes(m.path.split(".").pop()!)) return [];
  const shape = m.kind === "embedding" ? [m.inFeatures, m.outFeatures] : [m.outFeatures, m.inFeatures];
  return [{ name: "base_layer.weight", shape, init: "the base model's", trainable: false, parameter: false, saved: true }];
}

export const loraAdaptation: Adaptation = {
  kinds: ["linear", "conv1d", "embedding"],
  tensors(m, hp) {
    return [...loraTensors(m, hp), ...savedBaseWeight(m)];
  },
  scaling(hp) {
    const alpha = hp.alpha as number;
    const r = hp.r as number;
    return hp.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
  },
};

function loraTensors(m: ModuleShape, hp: Hyperparameters): MethodTensor[] {
    const r = hp.r as number;
    if (m.kind === "embedding") {
      // PEFT reverses the roles for embeddings: A starts at zero, B is normal.
      const tensors = [
        trained("lora_embedding_A", [r, m.inFeatures], hp.init === "random" ? "normal(0, 1)" : "zeros"),
        trained("lora_embedding_B", [m.outFeatures, r], "normal(0, 1)"),
      ];
      if (hp.use_dora) tensors.push(trained("lora_magnitude_vector", [m.outFeatures], "column norms of W + s·(B·A)ᵀ"));
      return tensors;
    }
    const tensors = [trained("lora_A.weight", [r, m.inFeatures], initOfA(hp)), trained("lora_B.weight", [m.outFeatures, r], initOfB(hp))];
    if (hp.use_dora) tensors.push(trained("lora_magnitude_vector", [m.outFeatures], "row norms of W + s·B·A"));
    return tensors;
}
