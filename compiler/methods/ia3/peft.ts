import type { PeftCodec } from "../types.js";
import { peftModulesToSelectors, selectorsToPeftModules } from "../../peft-config/selectors.js";
import type { SelectorIR } from "../../spec/ir.js";
import defaults from "./peft-defaults.json" with { type: "json" };

type Feedforward = (string | { regex: string })[];

export const ia3Peft: PeftCodec = {
  peftType: "IA3",
  defaults,
  handles: ["feedforward_modules"],
  encode(hp, fields) {
    const selectors = (hp.feedforward as Feedforward).map((f): SelectorIR =>
      typeof f === "string" ? { kind: "glob", pattern: f } : { kind: "regex", pattern: f.regex });
    if (selectors.length === 0) {
      fields.feedforward_modules = null;
      return;
    }
    const modules = selectorsToPeftModules(selectors);
    if ("problem" in modules) throw new Error(modules.problem);
    fields.feedforward_modules = modules.value;
  },
  decode(config, hp) {
    const selectors = peftModulesToSelectors(config.feedforward_modules);
    if (selectors.length > 0) {
      hp.feedforward = selectors.map((s) => (s.kind === "glob" ? s.pattern : { regex: s.kind === "regex" ? s.pattern : "" }));
    }
  },
};
