import type { PeftCodec } from "../types.js";
import defaults from "./peft-defaults.json" with { type: "json" };

export const pTuningPeft: PeftCodec = {
  peftType: "P_TUNING",
  defaults,
  floatFields: ["encoder_dropout"],
};
