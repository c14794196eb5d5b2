import type { PeftCodec } from "../types.js";
import loraDefaults from "./peft-defaults.json" with { type: "json" };

export const loraPeft: PeftCodec = {
  peftType: "LORA",
  defaults: loraDefaults,
  floatFields: ["lora_dropout"],
};
