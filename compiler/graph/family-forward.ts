// What a model family gives the lowering: its forward, written with the
// shared layer toolkit (CausalLMLowering: linear, norm, attention, MLPs,
// residuals, embeddings), which also records each op's backward.
import type { CausalLMLowering } from "./causal-lm.js";

export interface FamilyForward {
  /**
   * The input embeddings of `ids` (token embeddings, plus learned positions
   * where the family has them): [tokens, hidden]. In the "backward" phase the
   * same gathers again, for a recomputation (`suffix` names their buffers).
   */
  embed(L: CausalLMLowering, ids: string, phase: "forward" | "backward", suffix: string): string;
  /** Block `l` over the residual stream `x`: its output. */
  block(L: CausalLMLowering, l: number, x: string): string;
  /** The norm between the last block and the LM head. */
  finalNorm: string;
}
