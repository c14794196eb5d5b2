import type { Adaptation, MethodTensor } from "../types.js";
import { KAIMING, trained } from "../tensor.js";
import { factorization } from "./factorization.js";

export const lokrAdaptation: Adaptation = {
  kinds: ["linear"],
  tensors(m, hp) {
    const r = hp.r as number;
    const factor = hp.decompose_factor as number;
    const [inM, inN] = factorization(m.inFeatures, factor);
    const [outL, outK] = factorization(m.outFeatures, factor);
    // PEFT's rules: w1 is a full matrix unless decompose_both and r is small for it;
    // w2 is low-rank when r is below half its larger side.
    const fullW1 = !(hp.decompose_both === true && r < Math.max(outL, inM) / 2);
    const fullW2 = r >= Math.max(outK, inN) / 2;
    const random = hp.init === "random";
    const tensors: MethodTensor[] = [];
    // w1 starts at zero so that kron(w1, w2) does.
    if (fullW1) tensors.push(trained("lokr_w1", [outL, inM], random ? KAIMING : "zeros"));
    else tensors.push(trained("lokr_w1_a", [outL, r], random ? KAIMING : "zeros"), trained("lokr_w1_b", [r, inM], KAIMING));
    if (fullW2) tensors.push(trained("lokr_w2", [outK, inN], KAIMING));
    else tensors.push(trained("lokr_w2_a", [outK, r], KAIMING), trained("lokr_w2_b", [r, inN], KAIMING));
    return tensors;
  },
  scaling: (hp) => (hp.alpha as number) / (hp.r as number),
};
