// LoKr's trained tensors in a graph, and the two Kronecker factors w1, w2 as
// buffers: the parameters themselves when full, otherwise their low-rank
// products made into activations (small: outL·inM and outK·inN elements).
import { gemm } from "../../codegen/gemm.js";
import type { DeviceProfile } from "../../codegen/types.js";
import type { GraphBuilder, TrainedTensor } from "../../graph/builder.js";
import type { InitSpec, PhaseName } from "../../graph/types.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import { lokrLayout, lokrTensorSpecs, type LokrLayout, type LokrTensorName, type LokrTensorSpec } from "./layout.js";

export type LokrTensors = Partial<Record<LokrTensorName, TrainedTensor>>;

export function layoutOf(module: PlanModule): LokrLayout {
  return lokrLayout(module.inFeatures, module.outFeatures, module.hyperparameters);
}

function initSpec(t: LokrTensorSpec): InitSpec {
  // kaiming_uniform_(a=√5) on (rows, cols): gain √(1/3), bound gain·√(3/cols) = 1/√cols.
  return t.init === "zeros" ? { kind: "zeros" } : { kind: "uniform", bound: 1 / Math.sqrt(t.shape[1]) };
}

/** Declares (or finds again: the builder dedupes by name) the module's trained tensors under PEFT's keys. */
export function declareTensors(g: GraphBuilder, module: PlanModule, layout: LokrLayout): LokrTensors {
  const out: LokrTensors = {};
  for (const t of lokrTensorSpecs(layout, module.hyperparameters.init)) {
    // PEFT's ParameterDicts: the key has no ".weight".
    const key = `base_model.model.${module.path}.${t.name}`;
    const planned = module.tensors.find((p) => p.key === key);
    if (!planned || planned.shape.join(",") !== t.shape.join(",")) {
      throw new Error(`lokr: ${key} ${t.shape.join("×")} does not match the plan (${planned ? planned.shape.join("×") : "absent"})`);
    }
    out[t.name] = g.parameter(key, t.shape, initSpec(t), { key });
  }
  return out;
}

export interface Factors {
  w1: string;
  w2: string;
}

/** The buffers holding w1 and w2: the parameters, or activations for the a·b products (see computeFactors). */
export function factorBuffers(g: GraphBuilder, module: PlanModule, l: LokrLayout, t: LokrTensors): Factors {
  return {
    w1: l.fullW1 ? t.lokr_w1!.param : g.activation(`lokr_w1:${module.path}`, [l.outL, l.inM]),
    w2: l.fullW2 ? t.lokr_w2!.param : g.activation(`lokr_w2:${module.path}`, [l.outK, l.inN]),
  };
}

/** Emits w1 = w1_a·w1_b and w2 = w2_a·w2_b into their buffers, for the factors that are decomposed. */
export function computeFactors(g: GraphBuilder, phase: PhaseName, module: PlanModule, l: LokrLayout, t: LokrTensors, device: DeviceProfile): Factors {
  const f = factorBuffers(g, module, l, t);
  const product = (name: string, a: TrainedTensor, b: TrainedTensor, rows: number, cols: number, out: string) => {
    g.op(phase, gemm({ M: rows, N: cols, K: l.r }, device), { a: a.param, b: b.param, c: out }, `${module.path} ${name} = a·b`);
  };
  if (!l.fullW1) product("lokr_w1", t.lokr_w1_a!, t.lokr_w1_b!, l.outL, l.inM, f.w1);
  if (!l.fullW2) product("lokr_w2", t.lokr_w2_a!, t.lokr_w2_b!, l.outK, l.inN, f.w2);
  return f;
}
