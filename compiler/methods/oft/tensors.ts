import type { Adaptation } from "../types.js";
import { trained } from "../tensor.js";

/** The block count and size for a layer's input: r·b = in. */
export function oftBlocks(inFeatures: number, r: number, blockSize: number): { blocks: number; size: number } | string {
  if (r > 0) {
    if (inFeatures % r !== 0) return `r = ${r} does not divide the layer's ${inFeatures} input features`;
    return { blocks: r, size: inFeatures / r };
  }
  if (inFeatures % blockSize !== 0) return `block_size = ${blockSize} does not divide the layer's ${inFeatures} input features`;
  return { blocks: inFeatures / blockSize, size: blockSize };
}

export const oftAdaptation: Adaptation = {
  kinds: ["linear", "conv1d"],
  tensors(m, hp) {
    const blocks = oftBlocks(m.inFeatures, hp.r as number, hp.block_size as number);
    if (typeof blocks === "string") return blocks;
    // The strict upper triangle of each skew-symmetric block, row by row.
    const triangle = (blocks.size * (blocks.size - 1)) / 2;
    const random = hp.init_weights === false;
    return [trained("oft_R.weight", [hp.block_share ? 1 : blocks.blocks, triangle], random ? "kaiming_uniform" : "zeros")];
  },
};
