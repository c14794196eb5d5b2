import { fanInFanOut, initWeights } from "../fields.js";
import type { HyperparameterSchema } from "../types.js";

export const ia3Hyperparameters: Record<string, HyperparameterSchema> = {
  feedforward: {
    description: "selectors of the targets whose input (not output) is scaled: the feed-forward down projections",
    type: "array",
    items: {
      anyOf: [
        { type: "string", minLength: 1 },
        { type: "object", properties: { regex: { type: "string" } }, required: ["regex"], additionalProperties: false },
      ],
    },
    default: [],
    "x-expects": "a list of \"globs\" or /regexes/",
  },
  init_weights: initWeights("start the scaling vectors at 1 (false: random)", "init_ia3_weights"),
  fan_in_fan_out: fanInFanOut,
};
