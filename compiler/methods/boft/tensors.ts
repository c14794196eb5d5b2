import type { Adaptation } from "../types.js";
import { trained } from "../tensor.js";

/** PEFT's BOFT rules for a layer: the block size and count, and the butterfly factors. */
export function boftBlocks(inFeatures: number, blockSize: number, blockNum: number, butterfly: number): { size: number; blocks: number; factors: number } | string {
  const extra = butterfly - 1;
  if (blockSize === 0) {
    if (inFeatures % blockNum !== 0) return `block_num = ${blockNum} does not divide the layer's ${inFeatures} input features`;
    if (extra > 0) {
      if (extra > Math.floor(Math.log2(blockNum))) return `butterfly_factor = ${butterfly} needs block_num ≥ 2^${extra}`;
      if (blockNum % 2 ** extra !== 0) return `block_num = ${blockNum} is not a multiple of 2^(butterfly_factor - 1) = ${2 ** extra}`;
    }
    return even({ size: inFeatures / blockNum, blocks: blockNum, factors: butterfly });
  }
  if (inFeatures % blockSize !== 0) return `block_size = ${blockSize} does not divide the layer's ${inFeatures} input features`;
  if (extra > 0 && inFeatures % (blockSize * 2 ** extra) !== 0) {
    return `${inFeatures} input features are not a multiple of block_size·2^(butterfly_factor - 1) = ${blockSize * 2 ** extra}`;
  }
  return even({ size: blockSize, blocks: inFeatures / blockSize, factors: butterfly });
}

/** Butterfly permutations pair blocks and split them in halves: both counts must be even. */
function even(shape: { size: number; blocks: number; factors: number }): { size: number; blocks: number; factors: number } | string {
  if (shape.factors === 1) return shape;
  if (shape.blocks % 2 !== 0) return `butterfly factors need an even number of blocks, not ${shape.blocks}`;
  if (shape.size % 2 !== 0) return `butterfly factors need an even block size, not ${shape.size}`;
  return shape;
}

export const boftAdaptation: Adaptation = {
  kinds: ["linear"],
  tensors(m, hp) {
    const shape = boftBlocks(m.inFeatures, hp.block_size as number, hp.block_num as number, hp.butterfly_factor as number);
    if (typeof shape === "string") return shape;
    return [
      trained("boft_R", [shape.factors, shape.blocks, shape.size, shape.size], hp.init_weights === false ? "normal(0, 0.1)" : "zeros"),
      trained("boft_s", [m.outFeatures, 1], hp.init_weights === false ? "normal(1, 0.1)" : "ones"),
    ];
  },
};
