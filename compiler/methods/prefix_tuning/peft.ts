import type { PeftCodec } from "../types.js";
import defaults from "./peft-defaults.json" with { type: "json" };

export const prefixTuningPeft: PeftCodec = {
  peftType: "PREFIX_TUNING",
  defaults,
};
