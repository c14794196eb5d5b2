import type { PeftCodec } from "../types.js";
import defaults from "./peft-defaults.json" with { type: "json" };

export const lokrPeft: PeftCodec = {
  peftType: "LOKR",
  defaults,
  floatFields: ["rank_dropout", "module_dropout"],
};
