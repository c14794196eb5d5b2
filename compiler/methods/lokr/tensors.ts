import type { Adaptation } from "../types.js";
import { KAIMING, trained } from "../tensor.js";
import { lokrLayout, lokrTensorSpecs } from "./layout.js";

export const lokrAdaptation: Adaptation = {
  // PEFT's LoKr adapts nn.Linear (and convolutions); GPT-2's Conv1D is refused
  // there with a TypeError, so it is not offered here either.
  kinds: ["linear"],
  tensors(m, hp) {
    const layout = lokrLayout(m.inFeatures, m.outFeatures, hp);
    return lokrTensorSpecs(layout, hp.init).map((t) => trained(t.name, t.shape, t.init === "zeros" ? "zeros" : KAIMING));
  },
  scaling: (hp) => (hp.alpha as number) / (hp.r as number),
};
