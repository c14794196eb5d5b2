import { selectorMatcher } from "../../resolve/select.js";
import type { SelectorIR } from "../../spec/ir.js";
import type { Adaptation, Hyperparameters, ModuleShape } from "../types.js";
import { trained } from "../tensor.js";

export function isFeedforward(m: ModuleShape, hp: Hyperparameters): boolean {
  const selectors = (hp.feedforward as (string | { regex: string })[]).map((f): SelectorIR =>
    typeof f === "string" ? { kind: "glob", pattern: f } : { kind: "regex", pattern: f.regex });
  return selectors.some((s) => selectorMatcher(s)({ path: m.path, kind: m.kind } as never));
}

export const ia3Adaptation: Adaptation = {
  kinds: ["linear", "conv1d"],
  tensors(m, hp) {
    // PEFT: torch.ones, or (init_ia3_weights=False) the torch.randn it starts from.
    const init = hp.init_weights === false ? "normal(0, 1)" : "ones";
    // Feed-forward targets scale their input, the others their output.
    return [trained("ia3_l", isFeedforward(m, hp) ? [1, m.inFeatures] : [m.outFeatures, 1], init)];
  },
};
