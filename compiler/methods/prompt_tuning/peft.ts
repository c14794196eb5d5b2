import type { PeftCodec } from "../types.js";
import defaults from "./peft-defaults.json" with { type: "json" };

const INIT = { random: "RANDOM", sample_vocab: "SAMPLE_VOCAB", text: "TEXT" } as const;

export const promptTuningPeft: PeftCodec = {
  peftType: "PROMPT_TUNING",
  defaults,
  handles: ["prompt_tuning_init", "prompt_tuning_init_text"],
  encode(hp, fields) {
    const init = hp.init as "random" | "sample_vocab" | { text: string };
    if (typeof init === "string") {
      fields.prompt_tuning_init = INIT[init];
    } else {
      fields.prompt_tuning_init = INIT.text;
      fields.prompt_tuning_init_text = init.text;
      // PEFT refuses a TEXT init without a tokenizer; the model's own is the one peftc used.
      fields.tokenizer_name_or_path ??= fields.base_model_name_or_path ?? null;
    }
  },
  decode(config, hp, warn) {
    const init = config.prompt_tuning_init;
    if (init === "SAMPLE_VOCAB") hp.init = "sample_vocab";
    else if (init === "TEXT") {
      if (typeof config.prompt_tuning_init_text === "string") hp.init = { text: config.prompt_tuning_init_text };
      else warn("prompt_tuning_init is TEXT but prompt_tuning_init_text is missing; random init is used");
    } else if (init !== "RANDOM" && init !== undefined) warn(`prompt_tuning_init ${JSON.stringify(init)} is not supported; random init is used`);
  },
};
