import type { PeftCodec } from "../types.js";
import defaults from "./peft-defaults.json" with { type: "json" };

export const lnTuningPeft: PeftCodec = {
  peftType: "LN_TUNING",
  defaults,
};
