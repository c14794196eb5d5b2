// The JSON Schema of the adapter plan; plans are checked against it when
// written and read, so a bundle from another peftc fails clearly.
import { createAjv } from "../spec/validate.js";
import type { Plan } from "./plan-types.js";

const count = { type: "integer", minimum: 0 };
const tensor = {
  type: "object",
  additionalProperties: false,
  required: ["key", "shape", "dtype", "init", "trainable", "parameter", "saved"],
  properties: {
    key: { type: "string", minLength: 1 },
    shape: { type: "array", items: { type: "integer", minimum: 0 } },
    dtype: { const: "F32" },
    init: { type: "string" },
    trainable: { type: "boolean" },
    parameter: { type: "boolean" },
    saved: { type: "boolean" },
  },
};
const source = {
  type: "object",
  required: ["from"],
  properties: { from: { enum: ["default", "adapter", "rule"] }, rule: count, line: count },
  additionalProperties: false,
};

export const planSchema = {
  type: "object",
  additionalProperties: false,
  required: ["plan", "fingerprint", "model", "adapters", "totals", "memory"],
  properties: {
    plan: { const: 1 },
    fingerprint: { type: "string", pattern: "^sha256:[0-9a-f]{64}$" },
    model: {
      type: "object",
      additionalProperties: false,
      required: ["family", "modelType", "fingerprint", "parameters", "dtype", "layers", "hiddenSize", "vocabSize"],
      properties: {
        family: { type: "string" },
        modelType: { type: "string" },
        fingerprint: { type: "string" },
        parameters: count,
        dtype: { type: "string" },
        layers: count,
        hiddenSize: count,
        vocabSize: count,
      },
    },
    adapters: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "method", "peftType", "hyperparameters", "modules", "tensors", "trainable", "added", "peftLine"],
        properties: {
          name: { type: "string" },
          method: { type: "string" },
          peftType: { type: ["string", "null"] },
          hyperparameters: { type: "object" },
          modules: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["path", "kind", "role", "layer", "inFeatures", "outFeatures", "hyperparameters", "sources", "tensors", "trainable"],
              properties: {
                path: { type: "string" },
                kind: { enum: ["linear", "conv1d", "embedding", "norm"] },
                role: { type: "string" },
                layer: { type: ["integer", "null"] },
                inFeatures: count,
                outFeatures: count,
                hyperparameters: { type: "object" },
                sources: { type: "object", additionalProperties: source },
                scaling: { type: "number" },
                tensors: { type: "array", items: tensor },
                trainable: count,
              },
            },
          },
          tensors: { type: "array", items: tensor },
          trainable: count,
          added: count,
          peftLine: { type: "string" },
        },
      },
    },
    totals: {
      type: "object",
      additionalProperties: false,
      required: ["trainable", "all", "peftLine"],
      properties: { trainable: count, all: count, peftLine: { type: "string" } },
    },
    memory: {
      type: "object",
      additionalProperties: false,
      required: ["batch", "seqLen", "frozenWeights", "adapterParameters", "gradients", "optimizerStates", "activations", "total", "layersWithActivations"],
      properties: Object.fromEntries(
        ["batch", "seqLen", "frozenWeights", "adapterParameters", "gradients", "optimizerStates", "activations", "total", "layersWithActivations"].map((k) => [k, count]),
      ),
    },
  },
};

const validate = createAjv().compile(planSchema);

/** The schema's complaints about a plan, one line each (empty when valid). */
export function planProblems(plan: unknown): string[] {
  if (validate(plan)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
}

export function isPlan(value: unknown): value is Plan {
  return planProblems(value).length === 0;
}
