// LoRA in the training graph: the fused LoRA linear and its backward, with
// rsLoRA's scaling. The frozen W gets no gradient.
import { loraLinearBackward, loraLinearForward } from "../../codegen/lora.js";
import type { InitSpec } from "../../graph/types.js";
import type { LinearHook, LinearSite } from "../../graph/linear.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import type { GraphBuilder, TrainedTensor } from "../../graph/builder.js";

function initOf(module: PlanModule, which: "A" | "B"): InitSpec {
  const r = module.hyperparameters.r as number;
  const init = module.hyperparameters.init;
  if (which === "A") {
    // kaiming_uniform_(a=√5) on A (r, in): bound 1/√in; gaussian: N(0, 1/r).
    return init === "gaussian" ? { kind: "normal", std: 1 / r } : { kind: "uniform", bound: 1 / Math.sqrt(module.inFeatures) };
  }
  return init === "random" ? { kind: "uniform", bound: 1 / Math.sqrt(r) } : { kind: "zeros" };
}

function tensors(g: GraphBuilder, module: PlanModule): { A: TrainedTensor; B: TrainedTensor } {
  const key = (suffix: string) => `base_model.model.${module.path}.${suffix}`;
  const r = module.hyperparameters.r as number;
  return {
    A: g.parameter(key("lora_A.weight"), [r, module.inFeatures], initOf(module, "A"), { key: key("lora_A.weight") }),
    B: g.parameter(key("lora_B.weight"), [module.outFeatures, r], initOf(module, "B"), { key: key("lora_B.weight") }),
  };
}

function shape(site: LinearSite, module: PlanModule) {
  return {
    tokens: site.tokens,
    inFeatures: site.inFeatures,
    outFeatures: site.outFeatures,
    r: module.hyperparameters.r as number,
    scale: module.scaling!,
    bias: Boolean(site.bias),
    wLayout: site.layout,
  };
}

function unsupported(module: PlanModule): string | undefined {
  if (module.hyperparameters.use_dora) return "DoRA";
  if ((module.hyperparameters.dropout as number) > 0) return "LoRA dropout";
  if (module.hyperparameters.init === "pissa" || module.hyperparameters.init === "olora") return `${String(module.hyperparameters.init)} init`;
  return undefined;
}

export const loraGraph: LinearHook = {
  forward(site, module, { g, device }) {
    const missing = unsupported(module);
    if (missing) throw new Error(`training with ${missing} is not supported yet (${module.path})`);
    const { A, B } = tensors(g, module);
    // x·Aᵀ, kept for the backward (dB = s·dYᵀ·u).
    g.activation(`u:${module.path}`, [site.tokens, module.hyperparameters.r as number]);
    g.plan("forward", loraLinearForward(shape(site, module), device), {
      x: site.x, W: site.weight, lora_A: A.param, lora_B: B.param, y: site.y, u: `u:${module.path}`, ...(site.bias ? { bias: site.bias } : {}),
    }, `${module.path} lora forward`);
  },

  backward(site, module, { g, device }, dy, dx) {
    const { A, B } = tensors(g, module);
    const plan = loraLinearBackward(shape(site, module), device, { accumulateGrads: true, accumulateDx: dx?.accumulate ?? false });
    if (!dx) {
      // No input gradient wanted: drop the dX dispatch (the last step).
      plan.steps = plan.steps.filter((s) => !("c" in s.bind && s.bind.c === "dx"));
    }
    g.plan("backward", plan, {
      dy, x: site.x, u: `u:${module.path}`, W: site.weight, lora_A: A.param, lora_B: B.param,
      grad_A: A.grad, grad_B: B.grad, ...(dx ? { dx: dx.buffer } : {}),
    }, `${module.path} lora backward`);
  },
};
