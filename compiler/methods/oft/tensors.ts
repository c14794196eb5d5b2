import type { Adaptation, Hyperparameters, ModuleShape } from "../types.js";
import { trained } from "../tensor.js";

/**
 * PEFT's adjust_oft_parameters: the divisor of `features` nearest to `wanted`,
 * the lower one on a tie, or `features` itself when wanted is not smaller.
 */
export function nearestDivisor(features: number, wanted: number): number {
  if (wanted >= features) return features;
  let higher = wanted;
  while (features % higher !== 0) higher++;
  let lower = wanted;
  while (lower > 1 && features % lower !== 0) lower--;
  return wanted - lower <= higher - wanted ? lower : higher;
}

/** The block count and size for a layer's input: blocks·size = in. */
export function oftBlocks(inFeatures: number, hp: Hyperparameters): { blocks: number; size: number } {
  const r = hp.r as number;
  if (r > 0) return { blocks: r, size: inFeatures / r };
  const size = hp.block_size as number;
  return { blocks: inFeatures / size, size };
}

export const oftAdaptation: Adaptation = {
  kinds: ["linear"],
  adjust(m: ModuleShape, hp: Hyperparameters) {
    const key = (hp.r as number) > 0 ? "r" : "block_size";
    const wanted = hp[key] as number;
    if (m.inFeatures % wanted === 0 && wanted <= m.inFeatures) return undefined;
    const adjusted = nearestDivisor(m.inFeatures, wanted);
    return { set: { [key]: adjusted }, warning: `${key} = ${wanted} does not divide the ${m.inFeatures} input features: ${adjusted} is used, as PEFT does` };
  },
  tensors(m, hp) {
    const blocks = oftBlocks(m.inFeatures, hp);
    // The strict upper triangle of each skew-symmetric block, row by row.
    const triangle = (blocks.size * (blocks.size - 1)) / 2;
    const random = hp.init_weights === false;
    return [trained("oft_R.weight", [hp.block_share ? 1 : blocks.blocks, triangle], random ? "normal(0, 0.1)" : "zeros")];
  },
};
