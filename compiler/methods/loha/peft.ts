import type { PeftCodec } from "../types.js";
import defaults from "./peft-defaults.json" with { type: "json" };

export const lohaPeft: PeftCodec = {
  peftType: "LOHA",
  defaults,
  floatFields: ["rank_dropout", "module_dropout"],
};
