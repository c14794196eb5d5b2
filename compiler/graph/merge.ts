// The merge graph: adapters folded into the base weights they adapt, in place
// on the GPU, as PEFT's merge_adapter does, and taken out again in the reverse
// order (unmerge_adapter). Each method says how through its merge hook; this
// file knows no method.
import type { DeviceProfile } from "../codegen/types.js";
import { UserError } from "../errors.js";
import { findMethod } from "../methods/registry.js";
import type { ModelTree, ModuleNode } from "../models/types.js";
import type { PlanAdapter, PlanModule } from "../resolve/plan-types.js";
import { GraphBuilder } from "./builder.js";
import type { Graph } from "./types.js";

/** A layer an adapter is merged into. */
export interface MergeSite {
  path: string;
  kind: "linear" | "conv1d" | "embedding";
  /** How W is stored: (out, in) for Linear, (in, out) for Conv1D, (vocab, hidden) for Embedding. */
  layout: "out_in" | "in_out";
  inFeatures: number;
  outFeatures: number;
  /** The weight's buffer (f32), changed in place. */
  weight: string;
  /** The bias's buffer (f32, in place), when the layer has one. */
  bias?: string;
  /** The adapter's weight in this merge (PEFT's add_weighted_adapter weight; 1 for a plain merge). */
  scale: number;
}

export interface MergeContext {
  g: GraphBuilder;
  device: DeviceProfile;
  /** The adapter being merged (for tensors shared by its modules). */
  adapter: PlanAdapter;
}

/** How a method folds its change into a layer and takes it out again. */
export interface MergeHook {
  /** Emits ops into the "merge" phase turning site.weight (and bias) into the merged ones; the method's tensors are declared as in training. */
  merge(site: MergeSite, module: PlanModule, ctx: MergeContext): void;
  /** Emits ops into the "unmerge" phase restoring what merge changed (to float32 rounding). */
  unmerge(site: MergeSite, module: PlanModule, ctx: MergeContext): void;
}

export interface MergeInput {
  tree: ModelTree;
  /** In merge order; unmerging goes the other way. */
  adapters: { adapter: PlanAdapter; scale: number }[];
  device: DeviceProfile;
}

/** A base tensor the merge changes: where its merged values are, and who changed them. */
export interface MergedTensor {
  tensor: string;
  buffer: string;
  shape: number[];
  /** "adapter module" pairs that changed it, for messages. */
  changedBy: string[];
}

export interface MergeGraph {
  graph: Graph;
  wgsl: Map<string, string>;
  merged: MergedTensor[];
}

function siteOf(node: ModuleNode, g: GraphBuilder, scale: number): MergeSite {
  if (node.kind !== "linear" && node.kind !== "conv1d" && node.kind !== "embedding") {
    throw new UserError(`${node.path} is a ${node.kind} layer: there is no weight to merge an adapter into`);
  }
  return {
    path: node.path,
    kind: node.kind,
    layout: node.kind === "conv1d" ? "in_out" : "out_in",
    inFeatures: node.inFeatures,
    outFeatures: node.outFeatures,
    weight: g.weight(node.weight.name, node.weight.shape),
    ...(node.bias ? { bias: g.weight(node.bias.name, node.bias.shape) } : {}),
    scale,
  };
}

export function lowerMerge(input: MergeInput): MergeGraph {
  const g = new GraphBuilder(1, 1, 0, false);
  const merged = emitMerge(g, input);
  const { graph, wgsl } = g.finish({ ids: null, labels: null, loss: null, logits: null, params: g.trainedElements > 0 ? "params" : null, grads: null, gradSumSq: null }, []);
  return { graph, wgsl, merged };
}

/**
 * Adds to `g` the merge and unmerge phases of the adapters over g's weight
 * buffers (the same buffers any forward in g reads): the tensors they change.
 */
export function emitMerge(g: GraphBuilder, input: MergeInput): MergedTensor[] {
  const nodes = new Map(input.tree.modules.map((m) => [m.path, m]));
  const merged = new Map<string, MergedTensor>();
  const unmergeChunks: ReturnType<GraphBuilder["phases"]["unmerge"]["slice"]>[] = [];
  for (const { adapter, scale } of input.adapters) {
    const hook = findMethod(adapter.method)?.graph?.merge;
    if (!hook) throw new UserError(`adapter '${adapter.name}': merging ${adapter.method} adapters is not supported`);
    if (adapter.modules.length === 0) throw new UserError(`adapter '${adapter.name}' (${adapter.method}) changes no weight: there is nothing to merge`);
    // Each adapter in its own scope: two adapters on one module keep their own tensors.
    const ctx = { g, device: input.device, adapter };
    g.scoped(adapter.name, () => {
      for (const module of adapter.modules) {
        const node = nodes.get(module.path);
        if (!node) throw new UserError(`adapter '${adapter.name}' adapts ${module.path}, which the model lacks`);
        const site = siteOf(node, g, scale);
        hook.merge(site, module, ctx);
        const before = g.phases.unmerge.length;
        hook.unmerge(site, module, ctx);
        unmergeChunks.push(g.phases.unmerge.splice(before));
        for (const [tensor, buffer, shape] of [[node.weight.name, site.weight, node.weight.shape], ...(node.bias && site.bias ? [[node.bias.name, site.bias, node.bias.shape] as const] : [])] as const) {
          const entry = merged.get(tensor) ?? { tensor, buffer, shape: [...shape], changedBy: [] };
          entry.changedBy.push(`${adapter.name} ${module.path}`);
          merged.set(tensor, entry);
        }
      }
    });
  }
  // Last merged, first taken out: exact for methods whose merges do not commute (DoRA).
  for (const chunk of unmergeChunks.reverse()) g.phases.unmerge.push(...chunk);
  return [...merged.values()].sort((a, b) => a.tensor.localeCompare(b.tensor));
}
