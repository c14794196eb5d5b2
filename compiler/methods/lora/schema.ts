import type { HyperparameterSchema } from "../types.js";

export const loraHyperparameters: Record<string, HyperparameterSchema> = {
  r: {
    description: "the rank of the update B·A",
    type: "integer",
    minimum: 1,
    default: 8,
    "x-peft": "r",
    "x-per-target": true,
  },
  alpha: {
    description: "scaling numerator: the update is scaled by alpha/r (alpha/sqrt(r) with use_rslora)",
    type: "number",
    exclusiveMinimum: 0,
    default: 8,
    "x-peft": "lora_alpha",
    "x-per-target": true,
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
    description: "initialization: default (A kaiming-uniform, B zero), gaussian (A ~ N(0, 1/r)), pissa (principal singular vectors), olora (QR)",
    enum: ["default", "gaussian", "pissa", "olora"],
    default: "default",
    "x-peft": "init_lora_weights",
    "x-peft-values": { default: true, gaussian: "gaussian", pissa: "pissa", olora: "olora" },
  },
  bias: {
    description: "which biases train: none, all (every bias in the model), lora_only (biases of adapted modules)",
    enum: ["none", "all", "lora_only"],
    default: "none",
    "x-peft": "bias",
  },
  fan_in_fan_out: {
    description: "the base weight is stored (in, out), as GPT-2's Conv1D; set automatically from the model",
    type: "boolean",
    default: false,
    "x-peft": "fan_in_fan_out",
  },
};
