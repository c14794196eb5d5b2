// VeRA's tensors as graph buffers, shared by the training hook and the merge
// hook so both declare them identically (same names, shapes, inits, keys).
//
// The projections vera_A (r, max_in) and vera_B (max_out, r) are one frozen
// pair per adapter, made as PEFT's VeraModel makes them: one CPU generator
// seeded with projection_prng_key fills vera_A, then vera_B, each with
// kaiming_uniform(a=0) (bound √6/√fan_in). A layer uses vera_A[:, :in] and
// vera_B[:out, :].
import { copyColumns } from "../../codegen/columns.js";
import type { DeviceProfile } from "../../codegen/types.js";
import type { GraphBuilder, TrainedTensor } from "../../graph/builder.js";
import type { InitSpec } from "../../graph/types.js";
import type { PlanAdapter, PlanModule } from "../../resolve/plan-types.js";

export const KEY_A = "base_model.vera_A";
export const KEY_B = "base_model.vera_B";

export interface Projections {
  A: string;
  B: string;
  r: number;
  maxIn: number;
  maxOut: number;
}

/** PEFT's _kaiming_init bound, computed in the same double operations as Python's math. */
export function kaimingBound(fanIn: number): number {
  const std = Math.sqrt(2) / Math.sqrt(fanIn);
  return Math.sqrt(3.0) * std;
}

export function projections(g: GraphBuilder, adapter: PlanAdapter): Projections {
  const a = adapter.tensors.find((t) => t.key === KEY_A);
  const b = adapter.tensors.find((t) => t.key === KEY_B);
  if (!a || !b) throw new Error(`vera: adapter '${adapter.name}' has no shared projections in its plan`);
  const [r, maxIn] = a.shape as [number, number];
  const [maxOut] = b.shape as [number];
  const seed = adapter.hyperparameters.projection_prng_key as number;
  const initA: InitSpec = { kind: "torch_uniform", seed, bound: kaimingBound(maxIn) };
  const initB: InitSpec = { kind: "torch_uniform", seed, bound: kaimingBound(r), skip: r * maxIn };
  // With save_projection=False PEFT saves neither and regenerates both from the seed, as we do.
  return {
    A: g.frozen(`${adapter.name}:vera_A`, [r, maxIn], initA, a.saved ? KEY_A : undefined),
    B: g.frozen(`${adapter.name}:vera_B`, [maxOut, r], initB, b.saved ? KEY_B : undefined),
    r,
    maxIn,
    maxOut,
  };
}

/**
 * vera_A[:, :in] as a buffer of its own (the GEMM reads rows of `in` values):
 * A itself when the layer is the widest, else a frozen copy made once by the
 * init phase and shared by every layer of that width.
 */
export function sliceOfA(g: GraphBuilder, p: Projections, inFeatures: number, device: DeviceProfile): string {
  if (inFeatures === p.maxIn) return p.A;
  const name = `${p.A}[:, :${inFeatures}]`;
  if (!g.has(name)) {
    g.frozen(name, [p.r, inFeatures], { kind: "computed" });
    g.op("init", copyColumns({ rows: p.r, width: inFeatures, inCols: p.maxIn, inOffset: 0, outCols: inFeatures, outOffset: 0 }, device),
      { x: p.A, out: name }, `${name} slice`);
  }
  return name;
}

export interface Lambdas {
  b: TrainedTensor;
  d: TrainedTensor;
}

/** λ_b (out) and λ_d (r): PEFT's init (0 and d_initial), or with init_weights=False its raw init (1 and N(0, 1)). */
export function lambdas(g: GraphBuilder, module: PlanModule, r: number): Lambdas {
  const key = (suffix: string) => `base_model.model.${module.path}.${suffix}`;
  const peftInit = module.hyperparameters.init_weights !== false;
  const initB: InitSpec = peftInit ? { kind: "zeros" } : { kind: "ones" };
  const initD: InitSpec = peftInit ? { kind: "constant", value: module.hyperparameters.d_initial as number } : { kind: "normal", std: 1 };
  return {
    b: g.parameter(key("vera_lambda_b"), [module.outFeatures], initB, { key: key("vera_lambda_b") }),
    d: g.parameter(key("vera_lambda_d"), [r], initD, { key: key("vera_lambda_d") }),
  };
}
