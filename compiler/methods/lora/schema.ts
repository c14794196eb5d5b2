import { biasFor, fanInFanOut } from "../fields.js";
import type { HyperparameterSchema } from "../types.js";

export const loraHyperparameters: Record<string, HyperparameterSchema> = {
  r: {
    description: "the rank of the update B·A",
    type: "integer",
    minimum: 1,
    default: 8,
    "x-peft": "r",
    "x-per-target": true,
    "x-peft-pattern": "rank_pattern",
  },
  alpha: {
    description: "scaling numerator: the update is scaled by alpha/r (alpha/sqrt(r) with use_rslora)",
    type: "number",
    exclusiveMinimum: 0,
    default: 8,
    "x-peft": "lora_alpha",
    "x-per-target": true,
    "x-peft-pattern": "alpha_pattern",
  },
  dropout: {
    description: "dropout probability on the adapter's input during training",
    type: "number",
    minimum: 0,
    exclusiveMaximum: 1,
    default: 0,
    "x-peft": "lora_dropout",
  },
  use_rslora: {
    description: "rank-stabilized scaling alpha/sqrt(r)",
    type: "boolean",
    default: false,
    "x-peft": "use_rslora",
  },
  use_dora: {
    description: "weight-decomposed LoRA: a trained magnitude per output row",
    type: "boolean",
    default: false,
    "x-peft": "use_dora",
  },
  init: {
    description:
      "initialization: default (A kaiming-uniform, B zero), gaussian (A ~ N(0, 1/r)), pissa (principal singular vectors), olora (QR), random (B random too: the adapter starts non-zero)",
    enum: ["default", "gaussian", "pissa", "olora", "random"],
    default: "default",
    "x-peft": "init_lora_weights",
    "x-peft-values": { default: true, gaussian: "gaussian", pissa: "pissa", olora: "olora", random: false },
  },
  bias: biasFor("lora_only"),
  fan_in_fan_out: fanInFanOut,
};
