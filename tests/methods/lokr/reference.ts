// Float64 LoKr for the tests: the effective weight W + s·diag(mask)·kron(w1, w2)
// of a module, and the dropout mask recomputed on the CPU from the seed (an
// independent port of templates/lokr_mask.wgsl.hbs, so the GPU's masks are checked).
import { createHash } from "node:crypto";
import { factorization } from "../../../compiler/methods/lokr/factorization.js";
import type { ModelTree } from "../../../compiler/models/types.js";
import type { PlanModule } from "../../../compiler/resolve/plan-types.js";

const key = (m: PlanModule, name: string) => `base_model.model.${m.path}.${name}`;

function product(a: Float64Array, b: Float64Array, rows: number, r: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let k = 0; k < r; k++) for (let j = 0; j < cols; j++) out[i * cols + j]! += a[i * r + k]! * b[k * cols + j]!;
  return out;
}

/** w1 and w2 of a module from its tensors (PEFT keys), with their shapes. */
export function lokrFactors(m: PlanModule, tensors: Map<string, Float64Array>) {
  const hp = m.hyperparameters;
  const r = hp.r as number;
  const [inM, inN] = factorization(m.inFeatures, hp.decompose_factor as number);
  const [outL, outK] = factorization(m.outFeatures, hp.decompose_factor as number);
  const w1 = tensors.get(key(m, "lokr_w1")) ?? product(tensors.get(key(m, "lokr_w1_a"))!, tensors.get(key(m, "lokr_w1_b"))!, outL, r, inM);
  const w2 = tensors.get(key(m, "lokr_w2")) ?? product(tensors.get(key(m, "lokr_w2_a"))!, tensors.get(key(m, "lokr_w2_b"))!, outK, r, inN);
  return { w1, w2, inM, inN, outL, outK };
}

/** W (out, in) + s·mask[o]·kron(w1, w2)[o, c], Kronecker index order as torch.kron. */
export function lokrWeight(m: PlanModule, W: Float64Array, tensors: Map<string, Float64Array>, mask?: Float64Array): Float64Array {
  const { w1, w2, inM, inN, outK } = lokrFactors(m, tensors);
  const out = Float64Array.from(W);
  const s = m.scaling!;
  for (let o = 0; o < m.outFeatures; o++) {
    const f = s * (mask ? mask[o]! : 1);
    const i = Math.floor(o / outK);
    const k = o % outK;
    for (let c = 0; c < m.inFeatures; c++) {
      out[o * m.inFeatures + c]! += f * w1[i * inM + Math.floor(c / inN)]! * w2[k * inN + (c % inN)]!;
    }
  }
  return out;
}

/** Effective weights of every adapted module, for the reference model. */
export function lokrWeights(tree: ModelTree, modules: PlanModule[], tensors: Map<string, Float64Array>, base: (name: string) => Float64Array, masks?: Map<string, Float64Array>) {
  const merged = new Map<string, Float64Array>();
  for (const m of modules) {
    const node = tree.modules.find((n) => n.path === m.path)!;
    merged.set(m.path, lokrWeight(m, base(node.weight.name), tensors, masks?.get(m.path)));
  }
  return (name: string, module?: string) => (module !== undefined ? merged.get(module) : undefined) ?? base(name);
}

function hash(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** The mask a training step with this seed applies to a module's update (one factor per output). */
export function lokrMaskReference(m: PlanModule, seed: number): Float64Array {
  const hp = m.hyperparameters;
  const pRank = Math.fround(hp.rank_dropout as number);
  const pModule = Math.fround(hp.module_dropout as number);
  const salt = createHash("sha256").update(`lokr:${m.path}`).digest().readUInt32LE(0);
  const stream = hash((seed ^ salt) >>> 0);
  const draw = (i: number) => Math.fround(Math.fround(hash((stream ^ i) >>> 0)) * Math.fround(2.3283064365386963e-10));
  const keepModule = draw(0xffffffff) > pModule ? 1 : 0;
  const rows = Float64Array.from({ length: m.outFeatures }, (_, o) => (pRank > 0 ? (draw(o) > pRank ? 1 : 0) : 1));
  const kept = rows.reduce((a, b) => a + b, 0);
  const rescale = hp.rank_dropout_scale === true && pRank > 0 ? (kept > 0 ? m.outFeatures / kept : 0) : 1;
  return rows.map((v) => v * keepModule * rescale);
}
