// LoKr's own kernel: adding kron(w1, w2) into a weight (merge). Everything
// else is composed from GEMMs, the shared codegen/scale and the LyCORIS
// dropout mask (methods/lycoris).
import { ceilDiv, renderKernel, wgslF32 } from "../../codegen/render.js";
import type { DeviceProfile, KernelInstance } from "../../codegen/types.js";
import type { LokrLayout } from "./layout.js";

// Templates live beside this file; the renderer resolves them from its own folder.
const TEMPLATES = "../../methods/lokr/templates/";
const WG = 64;

/** Tensors: w1, w2 → W (in place, (out, in)): W += alpha·kron(w1, w2). */
export function lokrKronAdd(l: LokrLayout, alpha: number, _device: DeviceProfile): KernelInstance {
  const inFeatures = l.inM * l.inN;
  const outFeatures = l.outL * l.outK;
  const gy = Math.min(outFeatures, 65535);
  const spec = { inFeatures, outFeatures, inM: l.inM, inN: l.inN, outL: l.outL, outK: l.outK, alpha };
  const kernel = renderKernel({
    family: "lokr",
    template: `${TEMPLATES}lokr_kron_add.wgsl.hbs`,
    variant: "kron_add",
    reason: "one invocation per weight element",
    spec,
    view: { ...spec, WG, gy, alpha: wgslF32(alpha), alphaText: wgslF32(alpha) },
    workgroupSize: [WG, 1, 1],
    bindings: [
      { name: "w1", access: "read", type: "f32" },
      { name: "w2", access: "read", type: "f32" },
      { name: "W", access: "read_write", type: "f32" },
    ],
  });
  return { kernel, dispatch: [ceilDiv(inFeatures, WG), gy, ceilDiv(outFeatures, gy)] };
}
