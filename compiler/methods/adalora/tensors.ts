import type { Adaptation } from "../types.js";
import { trained } from "../tensor.js";

export const adaloraAdaptation: Adaptation = {
  kinds: ["linear", "conv1d"],
  tensors(m, hp) {
    const r = hp.init_r as number;
    return [
      trained("lora_A", [r, m.inFeatures], "normal(0, 0.02)"),
      trained("lora_E", [r, 1], "zeros"),
      trained("lora_B", [m.outFeatures, r], "normal(0, 0.02)"),
      // The current rank, a parameter PEFT does not train (it counts in "all params").
      { name: "ranknum", shape: [1], init: "init_r", trainable: false, parameter: true, saved: false },
    ];
  },
  // PEFT divides by the rank it started with (plus 1e-5), not by the pruned one.
  scaling: (hp) => (hp.alpha as number) / ((hp.init_r as number) + 1e-5),
};
