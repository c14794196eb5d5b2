import type { Adaptation } from "../types.js";
import { buffer, trained } from "../tensor.js";

export const veraAdaptation: Adaptation = {
  kinds: ["linear", "conv1d"],
  tensors(m, hp) {
    return [
      // init_weights=False keeps what PEFT's update_layer makes before its reset: ones and randn.
      trained("vera_lambda_b", [m.outFeatures], hp.init_weights === false ? "ones" : "zeros"),
      trained("vera_lambda_d", [hp.r as number], hp.init_weights === false ? "normal(0, 1)" : `d_initial (${String(hp.d_initial)})`),
    ];
  },
  shared(modules, hp) {
    // One frozen pair sized to the largest adapted layer; each layer uses its top-left corner.
    const r = hp.r as number;
    const maxIn = Math.max(...modules.map((m) => m.inFeatures));
    const maxOut = Math.max(...modules.map((m) => m.outFeatures));
    const saved = hp.save_projection !== false;
    const seed = `kaiming_uniform from seed ${String(hp.projection_prng_key)}`;
    return [buffer("base_model.vera_A", [r, maxIn], seed, saved), buffer("base_model.vera_B", [maxOut, r], seed, saved)];
  },
};
