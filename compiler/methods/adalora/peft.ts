import type { PeftCodec } from "../types.js";
import defaults from "./peft-defaults.json" with { type: "json" };

export const adaloraPeft: PeftCodec = {
  peftType: "ADALORA",
  defaults,
  floatFields: ["beta1", "beta2", "orth_reg_weight", "lora_dropout"],
  decode(config, _hp, warn) {
    // AdaLoRA saves its final rank mask as rank_pattern; the weights carry the ranks.
    const mask = config.rank_pattern;
    if (mask && typeof mask === "object" && Object.keys(mask).length > 0) {
      warn("rank_pattern (AdaLoRA's learned rank mask) is read with the adapter's weights, not into the spec");
    }
  },
};
