// Selective tuning: the selected weights themselves are trained, unchanged in shape.
import type { MethodDefinition } from "../types.js";

export const full: MethodDefinition = {
  name: "full",
  title: "Full tuning of selected modules",
  summary: "trains the selected modules' own weights (PEFT's modules_to_save, as an adapter of its own)",
  targets: "required",
  hyperparameters: {},
};
