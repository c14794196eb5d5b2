import type { PeftCodec } from "../types.js";
import defaults from "./peft-defaults.json" with { type: "json" };

export const oftPeft: PeftCodec = {
  peftType: "OFT",
  defaults,
  floatFields: ["module_dropout", "eps"],
};
