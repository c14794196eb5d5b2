// LoRA adapters combined into one, as PEFT's add_weighted_adapter does it
// (tuners/lora/model.py), for weights wᵢ and scalings sᵢ:
//   cat     A = [w₁s₁A₁; w₂s₂A₂; …], B = [B₁ B₂ …]: exactly Σ wᵢsᵢBᵢAᵢ; rank Σ rᵢ
//   linear  A = Σ ±√|wᵢsᵢ|·Aᵢ, B = Σ √|wᵢsᵢ|·Bᵢ: equal ranks only, an approximation
//   svd     the best rank-k factors of Σ wᵢsᵢBᵢAᵢ (k = --svd-rank, or the largest rank)
// The new config is the first adapter's with r = lora_alpha = the new rank,
// the targets united and the patterns cleared, so the new scaling is 1
// (√r when the first adapter used rsLoRA: PEFT keeps that flag, and so do we).
import { UserError } from "../../errors.js";
import { truncatedProductSvd } from "../../linalg/low-rank.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import type { CombineSource, CombineType, Combiner } from "../types.js";

function maxRank(config: Record<string, unknown>): number {
  const r = Number(config.r ?? 8);
  const pattern = Object.values((config.rank_pattern ?? {}) as Record<string, number>);
  return Math.max(r, ...pattern);
}

function keysOf(module: PlanModule): { A: string; B: string } {
  const base = `base_model.model.${module.path}`;
  return module.kind === "embedding"
    ? { A: `${base}.lora_embedding_A`, B: `${base}.lora_embedding_B` }
    : { A: `${base}.lora_A.weight`, B: `${base}.lora_B.weight` };
}

function unitedTargets(sources: CombineSource[]): string | string[] {
  const targets = sources.map((s) => s.config.target_modules);
  if (targets.every((t) => typeof t === "string")) return (targets as string[]).map((t) => `(${t})`).join("|");
  if (targets.every((t) => Array.isArray(t))) return [...new Set((targets as string[][]).flat())].sort();
  throw new UserError("the adapters' target_modules mix a regex and lists: PEFT cannot combine them, nor can peftc");
}

/** The effective combination: PEFT combines a single adapter linearly whatever was asked. */
function effectiveType(sources: CombineSource[], type: CombineType): CombineType {
  return sources.length === 1 ? "linear" : type;
}

interface Part {
  A: Float32Array;
  B: Float32Array;
  r: number;
  /** The adapter's weight times its scaling at this module. */
  ws: number;
}

/** [w₁s₁A₁; w₂s₂A₂; …] (rows × in) and [B₁ B₂ …] (out × rows), zero beyond the parts' ranks. */
function stackFactors(parts: Part[], rows: number, inFeatures: number, outFeatures: number): { A: Float64Array; B: Float64Array } {
  const A = new Float64Array(rows * inFeatures);
  const B = new Float64Array(outFeatures * rows);
  let row = 0;
  for (const p of parts) {
    for (let k = 0; k < p.r; k++) {
      for (let i = 0; i < inFeatures; i++) A[(row + k) * inFeatures + i] = p.A[k * inFeatures + i]! * p.ws;
      for (let o = 0; o < outFeatures; o++) B[o * rows + row + k] = p.B[o * p.r + k]!;
    }
    row += p.r;
  }
  return { A, B };
}

export const loraCombiner: Combiner = {
  config(sources, type, svdRank) {
    for (const s of sources) {
      if (s.config.use_dora) throw new UserError(`adapter '${s.plan.name}' uses DoRA: combining DoRA adapters is not supported (PEFT's result depends on a fresh magnitude)`);
    }
    const ranks = sources.map((s) => maxRank(s.config));
    const how = effectiveType(sources, type);
    let rank: number;
    if (how === "linear") {
      if (new Set(ranks).size !== 1) throw new UserError(`linear combination needs equal ranks; these have ${ranks.join(", ")} (use cat or svd)`);
      rank = ranks[0]!;
    } else if (how === "cat") {
      rank = ranks.reduce((a, b) => a + b, 0);
    } else {
      rank = svdRank ?? Math.max(...ranks);
    }
    const warnings: string[] = [];
    const first = sources[0]!.config;
    if (first.use_rslora) warnings.push(`the first adapter uses rsLoRA, which the combined config keeps (as PEFT does): its scaling is √${rank}, not 1`);
    if (sources.length === 1 && type !== "linear") warnings.push(`one adapter: combined linearly, as PEFT does, not by ${type}`);
    const config = { ...first, r: rank, lora_alpha: rank, target_modules: unitedTargets(sources), alpha_pattern: {}, rank_pattern: {} };
    return { config, rank, warnings };
  },

  tensors(sources, type, combined, rank) {
    const how = effectiveType(sources, type);
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const module of combined.modules) {
      const parts: Part[] = sources.flatMap((s) => {
        const own = s.plan.modules.find((m) => m.path === module.path);
        if (!own) return [];
        const keys = keysOf(own);
        const r = own.hyperparameters.r as number;
        return [{ A: s.tensors.get(keys.A)!, B: s.tensors.get(keys.B)!, r, ws: s.weight * own.scaling! }];
      });
      const inFeatures = module.inFeatures;
      const outFeatures = module.outFeatures;
      const A = new Float32Array(rank * inFeatures);
      const B = new Float32Array(outFeatures * rank);
      if (how === "cat") {
        const stacked = stackFactors(parts, rank, inFeatures, outFeatures);
        A.set(stacked.A);
        B.set(stacked.B);
      } else if (how === "linear") {
        for (const p of parts) {
          if (p.r !== rank) throw new UserError(`${module.path} has rank ${p.r} in one adapter, not ${rank}: linear combination needs equal ranks`);
          const root = Math.sqrt(Math.abs(p.ws));
          const sign = p.ws >= 0 ? 1 : -1;
          for (let j = 0; j < A.length; j++) A[j]! += sign * root * p.A[j]!;
          for (let j = 0; j < B.length; j++) B[j]! += root * p.B[j]!;
        }
      } else if (parts.length > 0) {
        const R = parts.reduce((n, p) => n + p.r, 0);
        if (rank > Math.min(inFeatures, outFeatures)) throw new UserError(`svd rank ${rank} exceeds ${module.path}'s ${outFeatures}×${inFeatures}`);
        if (R > Math.min(inFeatures, outFeatures)) throw new UserError(`${module.path}: the adapters' ranks add up to ${R}, more than the layer's ${Math.min(inFeatures, outFeatures)}; combine fewer adapters by svd`);
        // Σ wᵢsᵢBᵢAᵢ as one product of stacked factors, decomposed without forming it.
        const { A: Acat, B: Bcat } = stackFactors(parts, R, inFeatures, outFeatures);
        const low = truncatedProductSvd(Bcat, Acat, outFeatures, R, inFeatures, rank);
        A.set(low.A);
        B.set(low.B);
      }
      const keys = keysOf(module);
      out.set(keys.A, { shape: [rank, inFeatures], data: A });
      out.set(keys.B, { shape: [outFeatures, rank], data: B });
    }
    return out;
  },
};
