// The one tensor IA3 adds to a layer: the vector l, its PEFT key and shape,
// and which side of the layer it scales. Shared by the training graph and the
// merge so both declare the same buffer.
import type { GraphBuilder, TrainedTensor } from "../../graph/builder.js";
import type { InitSpec } from "../../graph/types.js";
import type { PlanModule } from "../../resolve/plan-types.js";
import type { ModuleShape } from "../types.js";
import { isFeedforward } from "./tensors.js";

export interface Ia3Vector extends TrainedTensor {
  /** Scales the layer's input (PEFT's feed-forward modules), else its output. */
  feedforward: boolean;
}

export function ia3Vector(g: GraphBuilder, module: PlanModule): Ia3Vector {
  const feedforward = isFeedforward(module as unknown as ModuleShape, module.hyperparameters);
  const key = `base_model.model.${module.path}.ia3_l`;
  const shape = feedforward ? [1, module.inFeatures] : [module.outFeatures, 1];
  // The plan decided the shape by the same rule; a disagreement is a compiler bug, not bad input.
  const planned = module.tensors.find((t) => t.key === key);
  if (!planned || planned.shape.join() !== shape.join()) {
    throw new Error(`ia3: ${module.path} plans ${planned ? `[${planned.shape.join(", ")}]` : "no ia3_l"}, the graph expects [${shape.join(", ")}]`);
  }
  // PEFT: torch.ones, or with init_ia3_weights=False the torch.randn it starts from.
  const init: InitSpec = module.hyperparameters.init_weights === false ? { kind: "normal", std: 1 } : { kind: "ones" };
  return { ...g.parameter(key, shape, init, { key }), feedforward };
}
