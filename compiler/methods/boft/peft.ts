import type { PeftCodec } from "../types.js";
import defaults from "./peft-defaults.json" with { type: "json" };

export const boftPeft: PeftCodec = {
  peftType: "BOFT",
  defaults,
  floatFields: ["boft_dropout"],
};
