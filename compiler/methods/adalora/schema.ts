import { alpha, biasFor, fanInFanOut, probability } from "../fields.js";
import type { HyperparameterSchema } from "../types.js";

const integer = (description: string, defaultValue: number | null, peft: string, minimum = 0): HyperparameterSchema => ({
  description,
  type: defaultValue === null ? ["integer", "null"] : "integer",
  minimum,
  default: defaultValue,
  "x-peft": peft,
});

const decay = (description: string, peft: string): HyperparameterSchema => ({
  description,
  type: "number",
  minimum: 0,
  exclusiveMaximum: 1,
  default: 0.85,
  "x-peft": peft,
});

export const adaloraHyperparameters: Record<string, HyperparameterSchema> = {
  init_r: integer("the rank every adapted module starts with", 12, "init_r", 1),
  target_r: integer("the average rank the budget shrinks to", 8, "target_r", 1),
  tinit: integer("steps of warmup before ranks are pruned", 0, "tinit"),
  tfinal: integer("steps at the end with the final ranks fixed", 0, "tfinal"),
  deltaT: integer("steps between two budget allocations", 1, "deltaT", 1),
  beta1: decay("EMA decay of the sensitivity (importance) scores", "beta1"),
  beta2: decay("EMA decay of the uncertainty scores", "beta2"),
  orth_reg_weight: {
    description: "weight of the orthogonality regulariser on P and Q",
    type: "number",
    minimum: 0,
    default: 0.5,
    "x-peft": "orth_reg_weight",
  },
  total_step: integer("the total training steps the budget schedule spans (required)", null, "total_step", 1),
  alpha: alpha(8, "lora_alpha"),
  dropout: probability("dropout probability on the adapter's input during training", "lora_dropout"),
  bias: biasFor("lora_only"),
  fan_in_fan_out: fanInFanOut,
};
