// The plan as a person reads it: a table of adapted modules, totals, PEFT's
// line, and the memory estimate with each part shown.
import type { Plan, PlanAdapter, PlanModule } from "../resolve/plan-types.js";
import { bytes, shape, shortTensorName, thousands } from "./format.js";

export interface Table {
  head: string[];
  rows: string[][];
  align?: ("left" | "right")[];
}

export function moduleTable(adapter: PlanAdapter): Table {
  const rows = adapter.modules.map((m) => [
    m.path,
    adapter.method,
    rankOf(m),
    m.tensors.map((t) => `${shortTensorName(t.key, m.path)} ${shape(t.shape)}`).join(", "),
    thousands(m.trainable),
  ]);
  for (const t of adapter.tensors) {
    rows.push([t.key.replace(/^base_model\.model\./, ""), adapter.method, "", `${t.trainable ? "" : "frozen "}${shape(t.shape)}`, t.trainable ? thousands(t.shape.reduce((a, b) => a * b, 1)) : "0"]);
  }
  return { head: ["module", "method", "rank", "tensors", "trainable"], rows, align: ["left", "left", "right", "left", "right"] };
}

function rankOf(m: PlanModule): string {
  const hp = m.hyperparameters;
  const r = hp.init_r ?? hp.r;
  const parts: string[] = [];
  if (typeof r === "number" && r > 0) parts.push(`r=${r}`);
  if (typeof hp.block_size === "number" && hp.block_size > 0 && hp.r === 0) parts.push(`b=${hp.block_size}`);
  if (m.scaling !== undefined) parts.push(`s=${Number(m.scaling.toPrecision(4))}`);
  return parts.join(" ");
}

export function memoryLines(plan: Plan): string[] {
  const m = plan.memory;
  const parts: [string, number][] = [
    ["frozen weights", m.frozenWeights],
    ["adapter parameters", m.adapterParameters],
    ["gradients", m.gradients],
    ["AdamW states", m.optimizerStates],
    [`activations (${m.layersWithActivations} of ${plan.model.layers} blocks)`, m.activations],
  ];
  const width = Math.max(...parts.map(([name]) => name.length));
  return [
    `training memory estimate, batch ${m.batch} × ${m.seqLen} tokens (float32):`,
    ...parts.map(([name, value]) => `  ${name.padEnd(width)}  ${bytes(value).padStart(10)}`),
    `  ${"total".padEnd(width)}  ${bytes(m.total).padStart(10)}`,
  ];
}

export function modelLine(plan: Plan, dir: string): string {
  const m = plan.model;
  return `model: ${m.modelType} (${m.family} family) at ${dir}: ${m.layers} layers, hidden ${m.hiddenSize}, vocab ${thousands(m.vocabSize)}, ${thousands(m.parameters)} parameters (${m.dtype})`;
}
