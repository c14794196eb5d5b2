import { alpha, initWeights, probability, rank } from "../fields.js";
import type { HyperparameterSchema } from "../types.js";

export const lohaHyperparameters: Record<string, HyperparameterSchema> = {
  r: rank(8, "the rank of each of the two factor pairs", "rank_pattern"),
  alpha: alpha(8, "alpha", "alpha_pattern"),
  rank_dropout: probability("dropout over the rank dimension during training", "rank_dropout"),
  module_dropout: probability("probability of skipping the whole adapter for a training step", "module_dropout"),
  init_weights: initWeights("PEFT's init: w2b = 0 so the update starts at zero (false: all factors random)"),
};
