import type { InputAttachment, MethodTensor } from "../types.js";
import { trained } from "../tensor.js";

export const llamaAdapterInput: InputAttachment = {
  tensors(model, hp) {
    const layers = hp.adapter_layers as number;
    if (layers > model.layers) return `adapter_layers = ${layers} is more than the model's ${model.layers} layers`;
    const attention = (hp.attention as string | null) ?? model.attentionName;
    const tensors: MethodTensor[] = [];
    // The top layers: the prompt attends where the model's highest representations are.
    for (let l = model.layers - layers; l < model.layers; l++) {
      const path = `base_model.model.${model.blockPrefix}.${l}.${attention}`;
      tensors.push(trained(`${path}.adaption_prompt`, [1, hp.adapter_len as number, model.hiddenSize], "normal(0, 1)"));
      tensors.push(trained(`${path}.adaption_gate`, [1], "zeros"));
    }
    return tensors;
  },
  virtualTokens: () => 0,
};
