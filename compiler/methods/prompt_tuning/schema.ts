import { fromModel, virtualTokens } from "../fields.js";
import type { HyperparameterSchema } from "../types.js";

export const promptTuningHyperparameters: Record<string, HyperparameterSchema> = {
  virtual_tokens: virtualTokens(),
  init: {
    description: "random, sample_vocab (rows of the vocabulary), or text(\"...\") (the embeddings of a text)",
    anyOf: [
      { enum: ["random", "sample_vocab"] },
      { type: "object", properties: { text: { type: "string", minLength: 1 } }, required: ["text"], additionalProperties: false },
    ],
    default: "random",
    "x-expects": "random, sample_vocab or text(\"...\")",
  },
  tokenizer: {
    description: "the tokenizer for text(...) init, as PEFT's tokenizer_name_or_path; defaults to the model's",
    type: ["string", "null"],
    default: null,
    "x-peft": "tokenizer_name_or_path",
  },
  ...fromModel,
};
