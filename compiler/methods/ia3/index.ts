// (IA)³ (Liu et al. 2022): learned vectors that scale activations.
import { error } from "../../../grammar/diagnostics.js";
import { isPlainName } from "../../selectors/glob.js";
import type { MethodDefinition } from "../types.js";
import { ia3Combiner } from "./combine.js";
import { ia3Graph } from "./graph.js";
import { ia3Merge } from "./merge.js";
import { ia3Peft } from "./peft.js";
import { ia3Hyperparameters } from "./schema.js";
import { ia3Adaptation } from "./tensors.js";

export const ia3: MethodDefinition = {
  name: "ia3",
  title: "IA3",
  summary: "a vector scaling each target's output (or input, for feed-forward targets)",
  targets: "required",
  hyperparameters: ia3Hyperparameters,
  crossCheck(hp, context) {
    // PEFT requires feed-forward modules to be targets. Plain names can be checked
    // here; globs and regexes are checked against the model when it is resolved.
    const feedforward = hp.feedforward as (string | { regex: string })[];
    const names = feedforward.filter((f): f is string => typeof f === "string" && isPlainName(f));
    const targets = context.targetNames();
    if (targets === undefined) return [];
    const outside = names.filter((n) => !targets.includes(n));
    return outside.map((n) => error(`feed-forward module '${n}' is not among the targets: IA3 scales only adapted modules`,
      context.spanOf("feedforward"), `add it to a target rule: target "${n}"`));
  },
  peft: ia3Peft,
  adapt: ia3Adaptation,
  graph: { linear: ia3Graph, merge: ia3Merge },
  combine: ia3Combiner,
};
