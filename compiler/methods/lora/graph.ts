// LoRA in the training graph: the fused LoRA linear and its backward, with
// rsLoRA's scaling, dropout on the adapter's input, and DoRA's magnitude. The
// frozen W gets no gradient.
//
//   u = dropout(x)·Aᵀ        z = x·Wᵀ + s·u·Bᵀ        y = z (+ b)          LoRA
//   n = ‖W + s·B·A‖ per row (no gradient)    y = (m / n) ⊙ z (+ b)          DoRA
import { DROPOUT_PARAMS, dropout, dropoutSalt } from "../../codegen/dropout.js";
import { elementwise } from "../../codegen/elementwise.js";
import { gemm } from "../../codegen/gemm.js";
import { loraLinearBackward, loraLinearForward } from "../../codegen/lora.js";
import type { KernelPlan } from "../../codegen/types.js";
import { UserError } from "../../errors.js";
import type { GraphBuilder, TrainedTensor } from "../../graph/builder.js";
import type { LinearContext, LinearHook, LinearSite } from "../../graph/linear.js";
import type { InitSpec } from "../../graph/types.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import { doraMagnitudeGrad, doraNorm, doraScale } from "./dora.js";

function initOf(module: PlanModule, which: "A" | "B"): InitSpec {
  const r = module.hyperparameters.r as number;
  const init = module.hyperparameters.init;
  if (which === "A") {
    // kaiming_uniform_(a=√5) on A (r, in): bound 1/√in; gaussian: N(0, 1/r).
    return init === "gaussian" ? { kind: "normal", std: 1 / r } : { kind: "uniform", bound: 1 / Math.sqrt(module.inFeatures) };
  }
  return init === "random" ? { kind: "uniform", bound: 1 / Math.sqrt(r) } : { kind: "zeros" };
}

interface Tensors {
  A: TrainedTensor;
  B: TrainedTensor;
  m?: TrainedTensor;
}

/** A LoRA module's tensors (A, B, and DoRA's magnitude), declared by their PEFT keys. */
export function loraTensors(g: GraphBuilder, module: PlanModule): Tensors {
  const key = (suffix: string) => `base_model.model.${module.path}.${suffix}`;
  const r = module.hyperparameters.r as number;
  return {
    A: g.parameter(key("lora_A.weight"), [r, module.inFeatures], initOf(module, "A"), { key: key("lora_A.weight") }),
    B: g.parameter(key("lora_B.weight"), [module.outFeatures, r], initOf(module, "B"), { key: key("lora_B.weight") }),
    ...(module.hyperparameters.use_dora
      ? { m: g.parameter(key("lora_magnitude_vector"), [module.outFeatures], { kind: "computed" }, { key: key("lora_magnitude_vector") }) }
      : {}),
  };
}

function shape(site: LinearSite, module: PlanModule, bias: boolean) {
  return {
    tokens: site.tokens,
    inFeatures: site.inFeatures,
    outFeatures: site.outFeatures,
    r: module.hyperparameters.r as number,
    scale: module.scaling!,
    bias,
    wLayout: site.layout,
  };
}

// LoRA's masks are salted by the bare module path.
const salt = (path: string) => dropoutSalt(path);
/** Dropout acts while training only: a graph that never trains copies nothing. */
const p = (module: PlanModule, g: GraphBuilder) => (g.training ? (module.hyperparameters.dropout as number) : 0);
const names = (module: PlanModule) => ({
  u: `u:${module.path}`,
  xd: `x_dropped:${module.path}`,
  z: `z:${module.path}`,
  norm: `dora_norm:${module.path}`,
});

/** Rebinds the plan's steps that read `x` for the low-rank path to the dropped-out input. */
function lowRankReads(plan: KernelPlan, steps: number[], tensor: string): void {
  for (const i of steps) {
    const step = plan.steps[i]!;
    step.bind = Object.fromEntries(Object.entries(step.bind).map(([k, v]) => [k, v === "x" ? tensor : v]));
  }
}

export const loraGraph: LinearHook = {
  forward(site, module, { g, device }) {
    const init = module.hyperparameters.init;
    if (init === "pissa" || init === "olora") throw new UserError(`training with ${String(init)} init is not supported yet (${module.path})`);
    const t = loraTensors(g, module);
    const n = names(module);
    const r = module.hyperparameters.r as number;
    g.activation(n.u, [site.tokens, r]);
    const bind: Record<string, string> = { x: site.x, W: site.weight, lora_A: t.A.param, lora_B: t.B.param, u: n.u };
    if (p(module, g) > 0) {
      g.activation(n.xd, [site.tokens, site.inFeatures]);
      g.op("forward", dropout({ count: site.tokens * site.inFeatures, p: p(module, g), salt: salt(module.path) }, device),
        { x: site.x, out: n.xd }, `${module.path} lora dropout`, DROPOUT_PARAMS);
      bind.x_dropped = n.xd;
    }
    if (!t.m) {
      const plan = loraLinearForward(shape(site, module, Boolean(site.bias)), device);
      if (p(module, g) > 0) lowRankReads(plan, [0], "x_dropped");
      g.plan("forward", plan, { ...bind, y: site.y, ...(site.bias ? { bias: site.bias } : {}) }, `${module.path} lora forward`);
      return;
    }
    // DoRA: z without the bias, the detached row norms, then y = (m / n)·z + b.
    g.activation(n.z, [site.tokens, site.outFeatures]);
    g.activation(n.norm, [site.outFeatures]);
    const plan = loraLinearForward(shape(site, module, false), device);
    if (p(module, g) > 0) lowRankReads(plan, [0], "x_dropped");
    g.plan("forward", plan, { ...bind, y: n.z }, `${module.path} dora z`);
    const norm = doraNorm(site, module, device);
    g.op("forward", norm, { W: site.weight, lora_A: t.A.param, lora_B: t.B.param, norm: n.norm }, `${module.path} dora norm`);
    // The magnitude starts as the row norms of W + s·B·A (of W, as B starts at 0). Computed
    // into the norm's buffer and copied: one dispatch may not read A and B from the flat
    // parameter buffer while writing m into it.
    g.op("init", norm, { W: site.weight, lora_A: t.A.param, lora_B: t.B.param, norm: n.norm }, `${module.path} dora magnitude init`);
    g.op("init", elementwise({ op: "scale", alpha: 1 }, site.outFeatures, device), { a: n.norm, out: t.m.param }, `${module.path} dora magnitude copy`);
    g.op("forward", doraScale(site, device, Boolean(site.bias)), { z: n.z, m: t.m.param, norm: n.norm, y: site.y, ...(site.bias ? { bias: site.bias } : {}) }, `${module.path} dora scale`);
  },

  backward(site, module, ctx, dy, dx) {
    const { g, device } = ctx;
    const t = loraTensors(g, module);
    const n = names(module);
    const dropped = p(module, g) > 0;
    let dz = dy;
    if (t.m) {
      // dm = Σ_t dy·z / n; dz = (m / n)·dy.
      g.op("backward", doraMagnitudeGrad(site, device), { dy, z: n.z, norm: n.norm, grad_m: t.m.grad }, `${module.path} dora dm`);
      dz = g.activation(`dz:${module.path}`, [site.tokens, site.outFeatures]);
      g.op("backward", doraScale(site, device, false), { z: dy, m: t.m.param, norm: n.norm, y: dz }, `${module.path} dora dz`);
    }
    const plan = loraLinearBackward(shape(site, module, false), device, { accumulateGrads: true, accumulateDx: dx?.accumulate ?? false });
    // steps: du, dB, dA, dx (= dy·W + du·A).
    if (dropped) lowRankReads(plan, [2], "x_dropped");
    const bind: Record<string, string> = {
      dy: dz, x: site.x, u: n.u, W: site.weight, lora_A: t.A.param, lora_B: t.B.param, grad_A: t.A.grad, grad_B: t.B.grad,
      ...(dropped ? { x_dropped: n.xd } : {}),
    };
    if (!dx || dropped) plan.steps = plan.steps.slice(0, 3);
    if (dx) bind.dx = dx.buffer;
    const bound = g.plan("backward", plan, bind, `${module.path} lora backward`);
    if (dx && dropped) {
      // The low-rank path saw the dropped-out x: its share of dX goes back through the same mask.
      backwardDroppedDx(site, module, ctx, dz, dx, bound.du!, t.A.param);
    }
  },
};

function backwardDroppedDx(site: LinearSite, module: PlanModule, { g, device }: LinearContext, dy: string, dx: { buffer: string; accumulate: boolean }, du: string, A: string): void {
  const r = module.hyperparameters.r as number;
  g.op("backward", gemm({ M: site.tokens, N: site.inFeatures, K: site.outFeatures, transB: site.layout === "in_out", accumulate: dx.accumulate }, device),
    { a: dy, b: site.weight, c: dx.buffer }, `${module.path} lora backward dx (base)`);
  const partial = g.activation(`dx_low_rank:${module.path}`, [site.tokens, site.inFeatures]);
  g.op("backward", gemm({ M: site.tokens, N: site.inFeatures, K: r }, device), { a: du, b: A, c: partial }, `${module.path} lora backward dx (low rank)`);
  g.op("backward", dropout({ count: site.tokens * site.inFeatures, p: p(module, g), salt: salt(module.path), backward: true, accumulate: true }, device),
    { x: partial, out: dx.buffer }, `${module.path} lora dropout backward`, DROPOUT_PARAMS);
}
