// LoRA in a mixed-adapter batch, fused: the module's adapters are stacked
// once (at init, ranks padded with zeros), then each forward is the gathered
// down-projection (mixed-kernel.ts) and one GEMM that carries every row's own
// low-rank term: y = x·Wᵀ + U·B_stackᵀ (+ b). DoRA's per-adapter magnitude
// does not fit this shape (PEFT refuses adapter_names with DoRA); such
// modules take the lowering's generic fallback.
import { copyColumns } from "../../codegen/columns.js";
import { gemm } from "../../codegen/gemm.js";
import type { MixedLinearHook } from "../../graph/mixed.js";
import { loraTensors } from "./graph.js";
import { loraMixedDown } from "./mixed-kernel.js";

export const loraMixed: MixedLinearHook = {
  supports(module) {
    const init = module.hyperparameters.init;
    return !module.hyperparameters.use_dora && init !== "pissa" && init !== "olora";
  },

  forward(site, entries, ctx) {
    const { g, device } = ctx;
    const path = site.path;
    const rMax = Math.max(...entries.map((e) => e.module.hyperparameters.r as number));
    const R = entries.length * rMax;
    const stackA = g.frozen(`lora_mixed_A:${path}`, [R, site.inFeatures], { kind: "zeros" });
    const stackB = g.frozen(`lora_mixed_B:${path}`, [site.outFeatures, R], { kind: "zeros" });
    entries.forEach((e, slot) => {
      const r = e.module.hyperparameters.r as number;
      // Each adapter's own A and B, loaded under its name, copied into its block of the stacks.
      const t = g.scoped(e.adapter.name, () => loraTensors(g, e.module));
      g.op("init", copyColumns({ rows: r, width: site.inFeatures, inCols: site.inFeatures, inOffset: 0, outCols: site.inFeatures, outOffset: slot * rMax * site.inFeatures }, device),
        { x: t.A.param, out: stackA }, `${path} lora stack A (${e.adapter.name})`);
      g.op("init", copyColumns({ rows: site.outFeatures, width: r, inCols: r, inOffset: 0, outCols: R, outOffset: slot * rMax }, device),
        { x: t.B.param, out: stackB }, `${path} lora stack B (${e.adapter.name})`);
    });
    const slots = new Array<number>(Math.max(...entries.map((e) => e.index)) + 1).fill(-1);
    entries.forEach((e, slot) => (slots[e.index] = slot));
    const u = g.activation(`u_mixed:${path}`, [site.tokens, R]);
    const down = loraMixedDown({
      tokens: site.tokens, inFeatures: site.inFeatures, rMax, scales: entries.map((e) => e.module.scaling!), slots, rowsPerIndex: ctx.rowsPerIndex,
    }, device);
    g.op("forward", down, { x: site.x, lora_A: stackA, index: ctx.adapterIndex, u }, `${path} lora mixed down`);
    const main = gemm({
      M: site.tokens, N: site.outFeatures, K: site.inFeatures, transB: site.layout === "out_in", bias: Boolean(site.bias),
      lora: { R, transL: true, scale: 1 },
    }, device);
    g.op("forward", main, { a: site.x, b: site.weight, u, l: stackB, c: site.y, ...(site.bias ? { bias: site.bias } : {}) }, `${path} lora mixed forward`);
  },
};
