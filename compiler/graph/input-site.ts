// The input site: rows a prompt method puts before each sequence's tokens
// (PEFT's prompt learning concatenates them to inputs_embeds). The host
// writes id −1 on those rows, so the token gather leaves them zero; the site
// gathers the method's [virtual, hidden] prompts into them and, in the
// backward, sums their gradient over the sequences. Their labels are ignored
// (the host's targets), and positions count them, as transformers numbers
// inputs_embeds after PEFT's concatenation.
import { elementwise } from "../codegen/elementwise.js";
import { embeddingBackward, embeddingForward } from "../codegen/embedding.js";
import { UserError } from "../errors.js";
import { findMethod } from "../methods/registry.js";
import type { Plan, PlanAdapter } from "../resolve/plan-types.js";
import type { HookContext, LinearContext } from "./linear.js";

export interface InputSite {
  /** Virtual rows before each sequence's tokens. */
  virtualTokens: number;
  /** Width of a row: the model's hidden size. */
  dim: number;
  /** The checkpoint tensor of the token embeddings the rows sit beside ([vocab, dim]), for inits that copy rows of it. */
  embeddingTensor: string;
}

/** The prompts a method gives the input site: their value and where their gradient is added. */
export interface InputPrompts {
  /** [virtualTokens, dim] */
  value: string;
  /** [virtualTokens, dim], added into; absent when nothing of the method trains. */
  grad?: string;
}

export interface InputHook {
  /** Emits (forward phase) what makes the prompts, declaring the method's tensors. */
  prompts(site: InputSite, ctx: HookContext): InputPrompts;
  /** Emits (backward phase) the gradients of what made the prompts, after the site has added theirs. */
  backward?(site: InputSite, ctx: HookContext): void;
}

export interface InputEntry {
  adapter: PlanAdapter;
  hook: InputHook;
  virtualTokens: number;
}

/** The plan's adapter that fills the input site, if any: one per graph (PEFT runs one prompt adapter per forward too). */
export function inputEntry(plan: Plan, mixed: boolean): InputEntry | undefined {
  const entries = plan.adapters.flatMap((adapter) => {
    const method = findMethod(adapter.method)!;
    const hook = method.graph?.input;
    return hook && method.input ? [{ adapter, hook, virtualTokens: method.input.virtualTokens(adapter.hyperparameters) }] : [];
  });
  if (entries.length === 0) return undefined;
  if (mixed) throw new UserError(`adapter '${entries[0]!.adapter.name}' puts virtual tokens before every sequence: it cannot run in a mixed-adapter batch beside other adapters (PEFT cannot either); evaluate it on its own`);
  if (entries.length > 1) throw new UserError(`adapters '${entries[0]!.adapter.name}' and '${entries[1]!.adapter.name}' both put virtual tokens before the input: use one at a time`);
  return entries[0];
}

/** Virtual tokens per sequence of a plan's graph (0 without a prompt method). */
export function virtualTokensOf(plan: Plan): number {
  return inputEntry(plan, false)?.virtualTokens ?? 0;
}

/**
 * Adds the prompts into the virtual rows of x [batch·rows, dim] (zero there):
 * a new buffer `out`; the gradient of out flows to x unchanged and, gathered
 * back, to the prompts.
 */
export function addPrompts(entry: InputEntry, ctx: LinearContext & { onBackward(emit: () => void): void }, x: string, embeddingTensor: string, batch: number, rows: number): string {
  const { g, grads, device } = ctx;
  const site: InputSite = { virtualTokens: entry.virtualTokens, dim: g.get(x).shape[1]!, embeddingTensor };
  const hookCtx = { ...ctx, adapter: entry.adapter };
  const prompts = entry.hook.prompts(site, hookCtx);
  const tokens = batch * rows;
  // Row t of a sequence reads prompt t for t < virtualTokens; the other rows read nothing (−1: a zero row).
  const index = g.constant(`input_site.rows.${rows}`, Array.from({ length: tokens }, (_, i) => (i % rows < site.virtualTokens ? i % rows : -1)), "i32");
  const shape = { tokens, vocab: site.virtualTokens, D: site.dim };
  const gathered = g.activation("input_site.prompts", [tokens, site.dim]);
  g.op("forward", embeddingForward(shape, device), { ids: index, table: prompts.value, out: gathered }, `${entry.adapter.name} virtual tokens`);
  const out = g.activation("input_site.out", [tokens, site.dim]);
  g.op("forward", elementwise({ op: "add" }, tokens * site.dim, device), { a: x, b: gathered, out }, `${entry.adapter.name} virtual tokens into the input`);
  grads.propagate(out, [x], Boolean(prompts.grad));
  ctx.onBackward(() => {
    if (!grads.has(out)) return;
    if (grads.needs(x)) grads.alias(x, out);
    if (prompts.grad) g.plan("backward", embeddingBackward(shape, device), { ids: index, dout: grads.read(out), dtable: prompts.grad }, `${entry.adapter.name} virtual tokens backward`);
    entry.hook.backward?.(site, hookCtx);
  });
  return out;
}
