// AdaLoRA (Zhang et al. 2023): SVD-shaped updates P·diag(E)·Q whose ranks are
// pruned during training by an importance budget.
import { error, type Diagnostic } from "../../../grammar/diagnostics.js";
import type { MethodDefinition } from "../types.js";
import { adaloraPeft } from "./peft.js";
import { adaloraHyperparameters } from "./schema.js";
import { adaloraAdaptation } from "./tensors.js";

export const adalora: MethodDefinition = {
  name: "adalora",
  title: "AdaLoRA",
  summary: "adaptive-rank update P·diag(E)·Q·alpha/r, pruned to a rank budget during training",
  targets: "required",
  hyperparameters: adaloraHyperparameters,
  crossCheck(hp, context) {
    const problems: Diagnostic[] = [];
    const total = hp.total_step as number | null;
    if (total === null) {
      problems.push(error("AdaLoRA needs total_step, the number of training steps its rank schedule spans",
        context.spanOf("total_step"), "add e.g. total_step = 1000"));
      return problems;
    }
    if ((hp.tinit as number) >= total - (hp.tfinal as number)) {
      problems.push(error(`tinit (${String(hp.tinit)}) + tfinal (${String(hp.tfinal)}) leave no budgeting phase within total_step (${total})`,
        context.spanOf("tinit"), "decrease tinit or tfinal, or increase total_step"));
    }
    if ((hp.target_r as number) > (hp.init_r as number)) {
      problems.push(error(`target_r (${String(hp.target_r)}) is above init_r (${String(hp.init_r)}): the budget only shrinks ranks`,
        context.spanOf("target_r")));
    }
    return problems;
  },
  peft: adaloraPeft,
  adapt: adaloraAdaptation,
};
