// LoKr in the training graph, through the Kronecker structure: ΔW = s·kron(w1, w2)
// is never formed. With in = inM·inN and out = outL·outK, a token's x is the
// matrix X (inM, inN) and its update the matrix (outL, outK):
//
//   ΔW[i·outK + k, j·inN + n] = s·w1[i, j]·w2[k, n]   ⇒   Δy_t = s·w1 · X_t · w2ᵀ
//
// Forward:   P = X·w2ᵀ                 one GEMM over all tokens' rows, (T·inM, outK)
//            y = x·Wᵀ + b + s·w1·P_t   the base GEMM, then a batched GEMM per token
// Backward (D = dY, per token (outL, outK); masked by the dropout mask when on):
//            Z_t = s·w1ᵀ·D_t           batched, (T·inM, outK)
//            dw2 = Zᵀ·X                one GEMM, contracting over all tokens' rows
//            dX = dY·W + Z·w2          the base term, then one GEMM
//            dw1 = s·Σ_t D_t·P_tᵀ      batched per token, then summed over tokens
// and, for decomposed factors, dw_a = dw·w_bᵀ, dw_b = w_aᵀ·dw. dw1 sums over
// tokens outside a GEMM because its contraction index (k) sits inside each
// token's row, between the rows of different tokens.
//
// Dropout, as PEFT: rank_dropout zeroes whole rows of ΔW (outputs) for a step,
// module_dropout skips the whole update for a step; both are one factor per
// output, drawn from the step's seed (methods/lycoris/templates/lycoris_dropout.wgsl.hbs).
import { gemm, type GemmTiling } from "../../codegen/gemm.js";
import { UserError } from "../../errors.js";
import { plainLinearBackward, plainLinearForward, type LinearHook, type LinearSite } from "../../graph/linear.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import { computeFactors, declareTensors, factorBuffers, layoutOf } from "./factors.js";
import { scaleAlong } from "../../codegen/scale.js";
import { DROPOUT_PARAMS, dropoutSalt } from "../../codegen/dropout.js";
import type { GraphBuilder } from "../../graph/builder.js";
import { lycorisDropoutMask } from "../lycoris/dropout.js";

// Batched GEMMs run one token per dispatch z, which WebGPU caps at 65535.
const MAX_TOKENS = 65535;

function check(site: LinearSite, module: PlanModule): void {
  if (site.layout !== "out_in") {
    // PEFT's LoKr raises a TypeError for transformers' Conv1D; the plan never offers it.
    throw new UserError(`${module.path}: LoKr adapts nn.Linear layers only (PEFT does not support GPT-2's Conv1D for LoKr)`);
  }
  if (site.tokens > MAX_TOKENS) {
    throw new UserError(`${module.path}: LoKr runs one GPU batch entry per token, at most ${MAX_TOKENS}; batch × seq_len is ${site.tokens} (lower batch or seq_len, and use grad_accum)`);
  }
}

const rankP = (m: PlanModule) => (m.hyperparameters.rank_dropout as number | undefined) ?? 0;
const moduleP = (m: PlanModule) => (m.hyperparameters.module_dropout as number | undefined) ?? 0;
/** Dropouts act while training only: a graph that never trains emits no mask. */
const dropped = (m: PlanModule, g: GraphBuilder) => g.training && (rankP(m) > 0 || moduleP(m) > 0);

const names = (m: PlanModule) => ({
  p: `lokr_p:${m.path}`,
  mask: `lokr_mask:${m.path}`,
  delta: `lokr_delta:${m.path}`,
  dyMasked: `lokr_dy_masked:${m.path}`,
  z: `lokr_z:${m.path}`,
  dw1Tokens: `lokr_dw1_tokens:${m.path}`,
  dw1: `lokr_dw1:${m.path}`,
  dw2: `lokr_dw2:${m.path}`,
});

/** A row vector times a matrix (Σ over tokens): one row of 16-column blocks, rather than 16-row blocks of which 15 are clamped copies. */
function rowTiling(N: number): GemmTiling {
  const TNV = N >= 64 ? 4 : 1;
  let WX = 1;
  while (WX < 8 && WX * 4 * TNV < N) WX *= 2;
  return { TM: 1, TNV, WX, WY: 1 };
}

export const lokrGraph: LinearHook = {
  forward(site, module, ctx) {
    const { g, device } = ctx;
    check(site, module);
    const l = layoutOf(module);
    const t = declareTensors(g, module, l);
    const n = names(module);
    const T = site.tokens;
    const s = module.scaling!;
    const f = computeFactors(g, "forward", module, l, t, device);
    // P = X·w2ᵀ: x (T, in) is (T·inM, inN) row-major, each row one j of one token.
    g.activation(n.p, [T * l.inM, l.outK]);
    g.op("forward", gemm({ M: T * l.inM, N: l.outK, K: l.inN, transB: true }, device), { a: site.x, b: f.w2, c: n.p }, `${module.path} lokr P = X·w2ᵀ`);
    plainLinearForward(site, ctx);
    // Δy_t = s·w1·P_t, written straight into y's row t (outL, outK), or kept for the mask.
    const perToken = (accumulate: boolean) =>
      gemm({ M: l.outL, N: l.outK, K: l.inM, alpha: s, accumulate, batch: { count: T, strideA: 0, strideB: l.inM * l.outK, strideC: site.outFeatures } }, device);
    if (!dropped(module, g)) {
      g.op("forward", perToken(true), { a: f.w1, b: n.p, c: site.y }, `${module.path} lokr y += s·w1·P`);
      return;
    }
    g.activation(n.mask, [site.outFeatures]);
    g.activation(n.delta, [T, site.outFeatures]);
    const mask = lycorisDropoutMask({ outFeatures: site.outFeatures, rankP: rankP(module), moduleP: moduleP(module), rescale: module.hyperparameters.rank_dropout_scale === true, salt: dropoutSalt(`lokr:${module.path}`) }, device);
    g.op("forward", mask, { mask: n.mask }, `${module.path} lokr dropout mask`, DROPOUT_PARAMS);
    g.op("forward", perToken(false), { a: f.w1, b: n.p, c: n.delta }, `${module.path} lokr Δy = s·w1·P`);
    g.op("forward", scaleAlong({ rows: T, cols: site.outFeatures, along: "columns", accumulate: true }, device), { src: n.delta, s: n.mask, out: site.y }, `${module.path} lokr y += mask·Δy`);
  },

  backward(site, module, ctx, dy, dx) {
    const { g, device } = ctx;
    const l = layoutOf(module);
    const t = declareTensors(g, module, l);
    const f = factorBuffers(g, module, l, t);
    const n = names(module);
    const T = site.tokens;
    const s = module.scaling!;
    const out = site.outFeatures;
    // The update's share of dY: dY itself, or dY times the step's mask.
    let d = dy;
    if (dropped(module, g)) {
      d = g.activation(n.dyMasked, [T, out]);
      g.op("backward", scaleAlong({ rows: T, cols: out, along: "columns" }, device), { src: dy, s: n.mask, out: d }, `${module.path} lokr mask·dY`);
    }

    // Z_t = s·w1ᵀ·D_t (inM, outK).
    g.activation(n.z, [T * l.inM, l.outK]);
    g.op("backward", gemm({ M: l.inM, N: l.outK, K: l.outL, transA: true, alpha: s, batch: { count: T, strideA: 0, strideB: out, strideC: l.inM * l.outK } }, device),
      { a: f.w1, b: d, c: n.z }, `${module.path} lokr Z = s·w1ᵀ·dY`);

    // dw2 = Zᵀ·X over all tokens' rows.
    const dw2 = l.fullW2 ? t.lokr_w2!.grad : g.activation(n.dw2, [l.outK, l.inN]);
    g.op("backward", gemm({ M: l.outK, N: l.inN, K: T * l.inM, transA: true, accumulate: l.fullW2 }, device), { a: n.z, b: site.x, c: dw2 }, `${module.path} lokr dw2 = Zᵀ·X`);

    // dw1 = s·Σ_t D_t·P_tᵀ: per token, then a ones-row GEMM sums the tokens.
    g.activation(n.dw1Tokens, [T, l.outL * l.inM]);
    g.op("backward", gemm({ M: l.outL, N: l.inM, K: l.outK, transB: true, alpha: s, batch: { count: T, strideA: out, strideB: l.inM * l.outK, strideC: l.outL * l.inM } }, device),
      { a: d, b: n.p, c: n.dw1Tokens }, `${module.path} lokr dw1 per token = s·dY_t·P_tᵀ`);
    const dw1 = l.fullW1 ? t.lokr_w1!.grad : g.activation(n.dw1, [l.outL, l.inM]);
    const ones = g.constant(`ones:${T}`, new Array<number>(T).fill(1), "f32");
    const sum = { M: 1, N: l.outL * l.inM, K: T, accumulate: l.fullW1 };
    g.op("backward", gemm(sum, device, rowTiling(sum.N)), { a: ones, b: n.dw1Tokens, c: dw1 }, `${module.path} lokr dw1 = Σ_t`);

    // Decomposed factors: w = a·b ⇒ da = dw·bᵀ, db = aᵀ·dw.
    const chain = (dw: string, a: { param: string; grad: string }, b: { param: string; grad: string }, rows: number, cols: number, which: string) => {
      g.op("backward", gemm({ M: rows, N: l.r, K: cols, transB: true, accumulate: true }, device), { a: dw, b: b.param, c: a.grad }, `${module.path} lokr d${which}_a`);
      g.op("backward", gemm({ M: l.r, N: cols, K: rows, transA: true, accumulate: true }, device), { a: a.param, b: dw, c: b.grad }, `${module.path} lokr d${which}_b`);
    };
    if (!l.fullW1) chain(dw1, t.lokr_w1_a!, t.lokr_w1_b!, l.outL, l.inM, "w1");
    if (!l.fullW2) chain(dw2, t.lokr_w2_a!, t.lokr_w2_b!, l.outK, l.inN, "w2");

    if (dx) {
      // dX = dY·W (the frozen weight sees the unmasked dY), then + Z·w2 per row of X.
      plainLinearBackward(site, ctx, dy, dx);
      g.op("backward", gemm({ M: T * l.inM, N: l.inN, K: l.outK, accumulate: true }, device), { a: n.z, b: f.w2, c: dx.buffer }, `${module.path} lokr dX += Z·w2`);
    }
  },
};
