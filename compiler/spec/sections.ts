// Schemas of the model block and the train block. Keys whose value may carry a
// { ... } block name the field that the value itself fills (x-primary), so
// `optimizer = adamw { lr = 1e-4 }` lowers to { "name": "adamw", "lr": 0.0001 }.
import { familyNames } from "../models/families.js";

export const modelSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    path: { type: "string", minLength: 1, description: "the Hugging Face model directory (config.json, *.safetensors, tokenizer.json)" },
    name: { type: "string", minLength: 1, description: "the base model's name for PEFT's base_model_name_or_path; defaults to path" },
  },
};

export const modelFamilies = familyNames;

export const trainSchema = {
  type: "object",
  additionalProperties: false,
  required: ["data"],
  properties: {
    data: {
      type: "object",
      "x-primary": "path",
      description: "the training data (JSONL)",
      additionalProperties: false,
      required: ["path"],
      properties: {
        path: { type: "string", minLength: 1, description: "a JSONL file: {\"text\"}, {\"prompt\",\"completion\"} or {\"input_ids\"[,\"labels\"]} a line" },
        format: { enum: ["auto", "text", "completion", "tokens"], default: "auto", description: "how lines are read; auto decides from each line's fields" },
        eval: { type: "string", minLength: 1, description: "a separate JSONL file for evaluation" },
        eval_split: { type: "number", minimum: 0, exclusiveMaximum: 1, default: 0, description: "the fraction of the data held out for evaluation when no eval file is given" },
        shuffle: { type: "boolean", default: true, description: "shuffle examples each epoch with the train seed" },
        packing: { type: "boolean", default: false, description: "pack several examples into each sequence instead of padding" },
      },
    },
    seq_len: { type: "integer", minimum: 2, maximum: 1048576, default: 256, description: "tokens per sequence" },
    batch: { type: "integer", minimum: 1, default: 8, description: "sequences per micro-batch" },
    grad_accum: { type: "integer", minimum: 1, default: 1, description: "micro-batches per optimizer step" },
    steps: { type: "integer", minimum: 1, default: 100, description: "optimizer steps" },
    seed: { type: "integer", minimum: 0, default: 42, description: "seeds the shuffle, dropout and initialization" },
    max_grad_norm: { type: "number", minimum: 0, default: 1.0, description: "clip the global gradient norm to this; 0 turns clipping off" },
    log_every: { type: "integer", minimum: 1, default: 10, description: "steps between logged losses" },
    eval_every: { type: "integer", minimum: 0, default: 0, description: "steps between evaluations; 0 evaluates at the end only" },
    checkpoint_every: { type: "integer", minimum: 0, default: 0, description: "steps between checkpoints; 0 writes none but the final adapter" },
    gradient_checkpointing: { type: "boolean", default: false, description: "recompute the activations of frozen MLPs in the backward instead of keeping them: less memory, a little more time" },
    optimizer: {
      type: "object",
      "x-primary": "name",
      description: "the optimizer",
      default: {},
      additionalProperties: false,
      properties: {
        name: { enum: ["adamw"], default: "adamw", description: "AdamW with decoupled weight decay" },
        lr: { type: "number", exclusiveMinimum: 0, default: 2e-4, description: "the peak learning rate" },
        weight_decay: { type: "number", minimum: 0, default: 0, description: "decoupled weight decay" },
        beta1: { type: "number", minimum: 0, exclusiveMaximum: 1, default: 0.9, description: "first-moment decay" },
        beta2: { type: "number", minimum: 0, exclusiveMaximum: 1, default: 0.999, description: "second-moment decay" },
        eps: { type: "number", exclusiveMinimum: 0, default: 1e-8, description: "added to the second-moment root" },
      },
    },
    schedule: {
      type: "object",
      "x-primary": "name",
      description: "the learning-rate schedule",
      default: {},
      additionalProperties: false,
      properties: {
        name: { enum: ["constant", "linear", "cosine"], default: "constant", description: "the decay after warmup" },
        warmup: { type: "integer", minimum: 0, default: 0, description: "steps of linear warmup from 0" },
        min_lr_ratio: { type: "number", minimum: 0, maximum: 1, default: 0, description: "the final learning rate as a fraction of lr" },
      },
    },
  },
} as const;
