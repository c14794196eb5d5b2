import type { PeftCodec } from "../types.js";
import defaults from "./peft-defaults.json" with { type: "json" };

export const llamaAdapterPeft: PeftCodec = {
  peftType: "ADAPTION_PROMPT",
  defaults,
};
