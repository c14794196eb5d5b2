import type { PeftCodec } from "../types.js";
import defaults from "./peft-defaults.json" with { type: "json" };

export const veraPeft: PeftCodec = {
  peftType: "VERA",
  defaults,
  floatFields: ["vera_dropout", "d_initial"],
};
