// Two comparables, adapter by adapter: added, removed and changed modules,
// changed settings, and the change in trainable parameters.
import type { Hyperparameters } from "../methods/types.js";
import type { Comparable, ComparableAdapter } from "./load.js";

export interface ValueChange {
  key: string;
  from: unknown;
  to: unknown;
}

export interface ModuleChange {
  path: string;
  hyperparameters: ValueChange[];
  trainable: [number, number];
}

export interface AdapterDiff {
  name: string;
  /** Names on each side, when they were paired despite differing names. */
  names?: [string, string];
  status: "added" | "removed" | "changed" | "same";
  method?: [string, string];
  hyperparameters: ValueChange[];
  modules?: { added: { path: string; trainable: number }[]; removed: { path: string; trainable: number }[]; changed: ModuleChange[] };
  trainable?: [number | null, number | null];
}

export interface DiffResult {
  a: string;
  b: string;
  different: boolean;
  adapters: AdapterDiff[];
}

function changes(a: Hyperparameters, b: Hyperparameters): ValueChange[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((key) => ({ key, from: a[key] ?? null, to: b[key] ?? null }));
}

function pairs(a: ComparableAdapter[], b: ComparableAdapter[]): [ComparableAdapter | undefined, ComparableAdapter | undefined][] {
  // One adapter on each side is the same adapter whatever it is called (a spec's "chat" is PEFT's "default").
  if (a.length === 1 && b.length === 1) return [[a[0], b[0]]];
  const names = [...new Set([...a.map((x) => x.name), ...b.map((x) => x.name)])];
  return names.map((n) => [a.find((x) => x.name === n), b.find((x) => x.name === n)]);
}

export function diff(a: Comparable, b: Comparable): DiffResult {
  const adapters: AdapterDiff[] = pairs(a.adapters, b.adapters).map(([x, y]) => {
    if (!x) return { name: y!.name, status: "added", hyperparameters: [], trainable: [null, y!.trainable ?? null] };
    if (!y) return { name: x.name, status: "removed", hyperparameters: [], trainable: [x.trainable ?? null, null] };
    const result: AdapterDiff = { name: y.name, status: "same", hyperparameters: changes(x.hyperparameters, y.hyperparameters) };
    if (x.name !== y.name) result.names = [x.name, y.name];
    if (x.method !== y.method) result.method = [x.method, y.method];
    if (x.modules && y.modules) {
      const added = [...y.modules].filter(([p]) => !x.modules!.has(p)).map(([path, m]) => ({ path, trainable: m.trainable }));
      const removed = [...x.modules].filter(([p]) => !y.modules!.has(p)).map(([path, m]) => ({ path, trainable: m.trainable }));
      const changed: ModuleChange[] = [];
      for (const [path, m] of x.modules) {
        const other = y.modules.get(path);
        if (!other) continue;
        // A side read off saved weights knows shapes, not settings: compare settings only when both have them.
        const known = Object.keys(m.hyperparameters).length > 0 && Object.keys(other.hyperparameters).length > 0;
        const hp = known ? changes(m.hyperparameters, other.hyperparameters) : [];
        if (hp.length > 0 || m.trainable !== other.trainable) changed.push({ path, hyperparameters: hp, trainable: [m.trainable, other.trainable] });
      }
      result.modules = { added, removed, changed };
    }
    result.trainable = [x.trainable ?? null, y.trainable ?? null];
    const modulesDiffer = result.modules && (result.modules.added.length + result.modules.removed.length + result.modules.changed.length > 0);
    const [before, after] = result.trainable;
    const countsDiffer = before !== null && after !== null && before !== after;
    if (result.method || result.hyperparameters.length > 0 || modulesDiffer || countsDiffer) result.status = "changed";
    return result;
  });
  return { a: a.label, b: b.label, different: adapters.some((d) => d.status !== "same"), adapters };
}
