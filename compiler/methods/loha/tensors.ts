import type { Adaptation } from "../types.js";
import { KAIMING, trained } from "../tensor.js";

export const lohaAdaptation: Adaptation = {
  kinds: ["linear"],
  tensors(m, hp) {
    const r = hp.r as number;
    const random = hp.init_weights === false;
    return [
      trained("hada_w1_a", [m.outFeatures, r], KAIMING),
      trained("hada_w1_b", [r, m.inFeatures], KAIMING),
      trained("hada_w2_a", [m.outFeatures, r], KAIMING),
      // Zero so that the update starts at zero.
      trained("hada_w2_b", [r, m.inFeatures], random ? KAIMING : "zeros"),
    ];
  },
  scaling: (hp) => (hp.alpha as number) / (hp.r as number),
};
