// An embedding layer in the graph: y = table[ids] (frozen), and what a method
// adapting it adds to y. The lowering gathers the rows; a method's embedding
// hook adds its change into y and, in the backward, takes y's gradient to its
// own tensors (nothing flows further down: the ids are the graph's input).
import type { HookContext } from "./linear.js";
import type { PlanModule } from "../resolve/plan-types.js";

export interface EmbeddingSite {
  path: string;
  tokens: number;
  /** Rows of the table (the vocabulary) and their width. */
  vocab: number;
  dim: number;
  /** The token ids (i32 [tokens]). */
  ids: string;
  /** The frozen table [vocab, dim]. */
  table: string;
  /** [tokens, dim]: the gathered rows, which the hook adds its change to. */
  y: string;
}

export interface EmbeddingHook {
  /** Emits ops (forward phase) adding the method's change into site.y, declaring its tensors. */
  forward(site: EmbeddingSite, module: PlanModule, ctx: HookContext): void;
  /** Emits ops (backward phase) adding the gradients of the method's tensors, from dy (the gradient of y). */
  backward(site: EmbeddingSite, module: PlanModule, ctx: HookContext, dy: string): void;
}
