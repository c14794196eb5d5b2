// Selective tuning: the selected weights themselves are trained, unchanged in shape.
import type { MethodDefinition } from "../types.js";
import { fullGraph } from "./graph.js";

export const full: MethodDefinition = {
  name: "full",
  title: "Full tuning of selected modules",
  summary: "trains the selected modules' own weights (PEFT's modules_to_save, as an adapter of its own)",
  targets: "required",
  hyperparameters: {},
  adapt: {
    kinds: ["linear", "conv1d", "embedding", "norm"],
    // Trained in place: the module's own tensors, under their own names.
    tensors: (m) => [
      { name: "weight", shape: m.kind === "conv1d" ? [m.inFeatures, m.outFeatures] : m.kind === "norm" ? [m.outFeatures] : m.kind === "embedding" ? [m.inFeatures, m.outFeatures] : [m.outFeatures, m.inFeatures], init: "the base model's", trainable: true, parameter: false, saved: true },
      ...(m.hasBias ? [{ name: "bias", shape: [m.outFeatures], init: "the base model's", trainable: true, parameter: false, saved: true }] : []),
    ],
  },
  graph: { linear: fullGraph },
};
