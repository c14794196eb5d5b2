// Mixed-adapter batches (PEFT's `adapter_names`): each token row of a batch
// runs with its own adapter, or none. The host writes an i32 index per row
// (the adapter's place in the plan, −1 for none); methods read it. A module's
// adapters take the fused path of their method when all of them have one
// (LoRA: one pass gathering each row's A and B); otherwise the generic
// fallback here runs every adapter's own hook over all rows into a buffer of
// its own and copies each adapter's rows over the base output: correct for
// any method, at the cost of one full layer per adapter.
import { selectRows } from "../codegen/select_rows.js";
import type { PlanAdapter, PlanModule } from "../resolve/plan-types.js";
import { plainLinearForward, type LinearContext, type LinearHook, type LinearSite } from "./linear.js";

/** One adapter on a module of a mixed graph. */
export interface MixedEntry {
  module: PlanModule;
  adapter: PlanAdapter;
  /** The method's linear hook (the generic fallback runs it). */
  hook: LinearHook;
  /** The value in the adapter index buffer that selects this adapter. */
  index: number;
  /** The method's fused mixed path, when it has one. */
  mixed?: MixedLinearHook | undefined;
}

export interface MixedContext extends LinearContext {
  /** i32 [sequences]: each sequence's adapter index (−1: none). */
  adapterIndex: string;
  /** Token rows per sequence: row t of the site reads adapterIndex[t / rowsPerIndex]. */
  rowsPerIndex: number;
}

/** A method's own way to run several of its adapters over the rows of one batch. */
export interface MixedLinearHook {
  /** Whether the fused path can run this module's adapter (LoRA: not DoRA). */
  supports(module: PlanModule): boolean;
  /**
   * Emits forward ops writing site.y (bias included): row t as the layer
   * adapted by the entry whose index equals adapterIndex[t / rowsPerIndex],
   * the plain layer where none does. Each entry's tensors are declared in the scope named
   * after its adapter (g.scoped), so that two adapters keep their own.
   */
  forward(site: LinearSite, entries: MixedEntry[], ctx: MixedContext): void;
}

/** Lowers a linear layer of a mixed graph: the fused path when every adapter has one, else the generic fallback. */
export function mixedLinearForward(site: LinearSite, entries: MixedEntry[], ctx: MixedContext & { generic: boolean }): void {
  const fused = entries[0]!.mixed;
  const allFused = !ctx.generic && fused !== undefined && entries.every((e) => e.mixed === fused && fused.supports(e.module));
  if (allFused) {
    fused.forward(site, entries, ctx);
    return;
  }
  plainLinearForward(site, ctx);
  perAdapterRows({ path: site.path, y: site.y, rows: site.tokens, width: site.outFeatures }, entries, ctx, (e, y) => {
    // A method that trains the weight itself declares its own copy.
    const adapted: LinearSite = e.hook.ownsWeight ? withoutBase({ ...site, y }) : { ...site, y };
    e.hook.forward(adapted, e.module, { ...ctx, adapter: e.adapter });
  });
}

/**
 * The generic way to run several adapters over one batch: each adapter's
 * `emit` writes the layer's output for every row into a buffer of its own (in
 * the adapter's scope), and the rows of that adapter's sequences are copied
 * over `site.y`, which holds the base output (the rows of no adapter).
 */
export function perAdapterRows<E extends { adapter: PlanAdapter; index: number }>(
  site: { path: string; y: string; rows: number; width: number },
  entries: readonly E[],
  ctx: MixedContext,
  emit: (entry: E, y: string) => void,
): void {
  const { g, device } = ctx;
  for (const e of entries) {
    const own = g.scoped(e.adapter.name, () => {
      const y = g.activation(`${site.y}@adapter`, [site.rows, site.width]);
      emit(e, y);
      return y;
    });
    g.op("forward", selectRows({ rows: site.rows, width: site.width, slot: e.index, rowsPerIndex: ctx.rowsPerIndex }, device), { x: own, index: ctx.adapterIndex, out: site.y },
      `${site.path} rows of adapter ${e.adapter.name}`);
  }
}

function withoutBase(site: LinearSite): LinearSite {
  const { bias: _bias, ...rest } = site;
  return { ...rest, weight: "" };
}
