// A bundle read back: the graph, its kernels' WGSL, the plan and the settings.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { graphProblems } from "../../compiler/graph/schema.js";
import type { Graph } from "../../compiler/graph/types.js";
import type { Plan } from "../../compiler/resolve/plan-types.js";
import { planProblems } from "../../compiler/resolve/plan-schema.js";
import type { TrainSettings } from "../../compiler/bundle/train-settings.js";
import { BUNDLE_FORMAT } from "../../compiler/bundle/write.js";

export class BundleError extends Error {}

export interface BundleIndex {
  format: number;
  compiler: string;
  model: { path: string; family: string; modelType: string; fingerprint: string };
  adapters: { name: string; method: string; trainable: number; peftConfig: string | null }[];
  train: TrainSettings | null;
  kernels: { key: string; file: string }[];
}

export interface LoadedBundle {
  dir: string;
  index: BundleIndex;
  plan: Plan;
  graph: Graph;
  wgsl: Map<string, string>;
  peftConfigs: Record<string, string>;
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (e) {
    throw new BundleError(`${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : `not valid JSON (${(e as Error).message})`}`);
  }
}

export function isBundle(dir: string): boolean {
  return existsSync(join(dir, "bundle.json"));
}

export function readBundle(dir: string): LoadedBundle {
  if (!isBundle(dir)) throw new BundleError(`${dir} is not a bundle (no bundle.json)`);
  const index = readJson<BundleIndex>(join(dir, "bundle.json"));
  if (index.format !== BUNDLE_FORMAT) throw new BundleError(`${dir}: bundle format ${index.format}, this peftc reads format ${BUNDLE_FORMAT}`);
  const graph = readJson<Graph>(join(dir, "graph.json"));
  const problems = graphProblems(graph);
  if (problems.length > 0) {
    throw new BundleError(`${join(dir, "graph.json")} is not a valid graph: ${problems.slice(0, 3).join("; ")}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ""}`);
  }
  const plan = readJson<Plan>(join(dir, "plan.json"));
  const planIssues = planProblems(plan);
  if (planIssues.length > 0) throw new BundleError(`${join(dir, "plan.json")} is not a valid plan: ${planIssues.slice(0, 3).join("; ")}`);
  const wgsl = new Map<string, string>();
  for (const k of index.kernels) {
    const path = join(dir, k.file);
    if (!existsSync(path)) throw new BundleError(`${dir}: kernel file ${k.file} is missing`);
    wgsl.set(k.key, readFileSync(path, "utf8"));
  }
  const peftConfigs: Record<string, string> = {};
  for (const a of index.adapters) if (a.peftConfig) peftConfigs[a.name] = readFileSync(join(dir, a.peftConfig), "utf8");
  return { dir, index, plan, graph, wgsl, peftConfigs };
}
