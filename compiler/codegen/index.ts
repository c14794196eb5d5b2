// Every kernel family the compiler can emit. Each function takes a shape and
// the device profile and returns JSON-serializable kernel instances or plans
// (see types.ts); the runtime executes them without knowing what they compute.
export { adamw, adamwSegmentTable, ADAMW_PARAMS, type AdamwSegment, type AdamwShape } from "./adamw.js";
export { attentionBackward, attentionForward, chooseAttentionBlocking, type AttentionShape } from "./attention.js";
export { crossEntropy, type CrossEntropyShape } from "./cross_entropy.js";
export { elementwise, type ElementwiseOp } from "./elementwise.js";
export { embeddingBackward, embeddingForward, type EmbeddingShape } from "./embedding.js";
export { chooseGemmTiling, gemm, type Activation, type GemmShape, type GemmTiling } from "./gemm.js";
export { loraLinearBackward, loraLinearForward, type LoraLinearShape } from "./lora.js";
export { normBackward, normForward, normParamGrad, type NormShape } from "./norm.js";
export { sumSquares } from "./reduce.js";
export { rope, type RopeShape } from "./rope.js";
export { transpose } from "./transpose.js";
export type { DeviceProfile, KernelInstance, KernelPlan, KernelSource, KernelStep } from "./types.js";
