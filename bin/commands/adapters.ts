// Several PEFT adapters for one base model, as `--adapter [NAME=]DIR`
// options give them: each loaded once and named, for commands that select
// an adapter per prompt or per run (generate, eval).
import { basename, resolve } from "node:path";
import { UserError } from "../../compiler/errors.js";
import type { LoadedModel } from "../../compiler/models/load.js";
import { loadPeftAdapters, type LoadedAdapter } from "../../compiler/peft-config/load-adapter.js";
import { buildPlan } from "../../compiler/resolve/plan.js";
import type { Plan } from "../../compiler/resolve/plan-types.js";
import type { Io } from "../io.js";

/** What "--use none" and "none" in data mean: the base model, no adapter. */
export const NO_ADAPTER = "none";

/**
 * Loads `--adapter` values: `NAME=DIR` names the directory's adapter (PEFT's
 * default one, at its top); a bare `DIR` brings every adapter in it under
 * its own name (PEFT's "default", or its subfolder's name).
 */
export function loadNamedAdapters(io: Io, model: LoadedModel, specs: readonly string[]): LoadedAdapter[] {
  const out: LoadedAdapter[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    // A Windows drive letter or a path with "=" in a folder name is still a path when no valid name precedes it.
    const named = eq > 0 && /^[A-Za-z_][\w.-]*$/.test(spec.slice(0, eq));
    const dir = resolve(named ? spec.slice(eq + 1) : spec);
    const found = loadPeftAdapters(dir, model.tree);
    for (const a of found) for (const w of a.warnings) io.err(`warning: ${a.dir}: ${w}`);
    if (named) {
      const name = spec.slice(0, eq);
      if (found.length > 1) io.err(`note: ${dir} holds ${found.length} adapters; '${name}' is its '${found[0]!.name}'`);
      out.push(rename(found[0]!, name));
    } else {
      out.push(...found);
    }
  }
  const seen = new Map<string, string>();
  for (const a of out) {
    if (a.name === NO_ADAPTER) throw new UserError(`an adapter cannot be named '${NO_ADAPTER}' (it means the base model); name it with --adapter NAME=${a.dir}`);
    const other = seen.get(a.name);
    if (other) {
      throw new UserError(`two adapters are named '${a.name}' (${other} and ${a.dir})`, `name them: --adapter ${a.name}=${other} --adapter ${basename(a.dir)}=${a.dir}`);
    }
    seen.set(a.name, a.dir);
  }
  return out;
}

function rename(a: LoadedAdapter, name: string): LoadedAdapter {
  return { ...a, name, adapter: { ...a.adapter, name }, plan: { ...a.plan, adapters: a.plan.adapters.map((x) => ({ ...x, name })) } };
}

/** The index of `name` among the adapters (−1 for "none"), or a clear error. */
export function adapterIndex(adapters: readonly LoadedAdapter[], name: string): number {
  if (name === NO_ADAPTER) return -1;
  const i = adapters.findIndex((a) => a.name === name);
  if (i < 0) {
    const names = adapters.map((a) => `'${a.name}'`).join(", ");
    throw new UserError(`no adapter is named '${name}' (${adapters.length > 0 ? `loaded: ${names}` : "no adapter is loaded"}, or '${NO_ADAPTER}')`);
  }
  return i;
}

/** The base model with no adapter. */
export function basePlan(model: LoadedModel): Plan {
  return buildPlan({ peft: 1, model: null, adapters: [], train: [] }, model.tree).plan!;
}

/**
 * The plan a graph runs and how to fill it, for sequences using `used`
 * (indices into `adapters`, −1 for none): no adapter, one adapter for every
 * sequence (the plain graph), or several (a mixed-adapter graph holding the
 * used adapters; `index` maps each adapter's index to its place in it).
 * Merged (--merge): the base graph, whose merge phase folds every loaded
 * adapter into its weights (weight 1, in order); every sequence runs it.
 */
export function graphAdapters(model: LoadedModel, adapters: readonly LoadedAdapter[], used: readonly number[], merged = false): {
  plan: Plan;
  mixed: boolean;
  index: (i: number) => number;
  saved: (key: string, adapter?: string) => Float32Array | undefined;
  merge?: { adapter: Plan["adapters"][number]; scale: number }[];
} {
  if (merged) {
    return {
      plan: basePlan(model),
      mixed: false,
      index: () => -1,
      // The merge phase asks in each adapter's scope.
      saved: (key, adapter) => adapters.find((a) => a.name === adapter)?.tensors.get(key),
      merge: adapters.map((a) => ({ adapter: a.adapter, scale: 1 })),
    };
  }
  const distinct = [...new Set(used)].sort((a, b) => a - b);
  const loaded = distinct.filter((i) => i >= 0).map((i) => adapters[i]!);
  const base = basePlan(model);
  const plan = { ...base, adapters: loaded.map((a) => a.adapter) };
  const single = distinct.length === 1 && distinct[0]! >= 0;
  return {
    plan,
    mixed: loaded.length > 0 && !single,
    index: (i) => (i < 0 ? -1 : loaded.indexOf(adapters[i]!)),
    // A plain graph asks without a name: its one adapter.
    saved: (key, adapter) => (adapter === undefined ? loaded[0] : loaded.find((a) => a.name === adapter))?.tensors.get(key),
  };
}
