// The JSON Schema of the graph IR. Graphs are checked against it when a
// bundle is read, so a damaged or foreign graph.json fails with a message
// rather than deep inside the runtime.
import { createAjv } from "../spec/validate.js";
import { GRAPH_VERSION, PHASES, type Graph } from "./types.js";

const count = { type: "integer", minimum: 0 };
const name = { type: "string", minLength: 1 };

const init = {
  type: "object",
  required: ["kind"],
  properties: {
    kind: { enum: ["zeros", "ones", "constant", "uniform", "normal", "torch_uniform", "copy", "embedding_rows", "computed"] },
    value: { type: "number" },
    bound: { type: "number" },
    std: { type: "number" },
    mean: { type: "number" },
    seed: count,
    skip: count,
    from: name,
    dim: count,
    text: { type: "string" },
    sample: { type: "boolean" },
  },
  additionalProperties: false,
};

const buffer = {
  type: "object",
  additionalProperties: false,
  required: ["name", "role", "type", "size", "shape"],
  properties: {
    name,
    role: { enum: ["weight", "parameter", "frozen", "gradient", "optimizer", "activation", "input", "constant", "cache"] },
    type: { enum: ["f32", "i32", "u32"] },
    size: count,
    shape: { type: "array", items: count },
    tensor: name,
    packed: { enum: ["bf16", "f16"] },
    view: { type: "object", additionalProperties: false, required: ["of", "offset"], properties: { of: name, offset: count } },
    init,
    key: name,
    origin: name,
    weightDecay: { type: "number", minimum: 0 },
    data: { type: "array", items: { type: "number" } },
    slot: count,
  },
};

const op = {
  type: "object",
  additionalProperties: false,
  required: ["kernel", "bind", "dispatch", "label"],
  properties: {
    kernel: name,
    bind: { type: "object", additionalProperties: name },
    dispatch: { type: "array", items: { type: "integer", minimum: 0, maximum: 65535 }, minItems: 3, maxItems: 3 },
    params: {
      type: "object",
      additionalProperties: {
        anyOf: [
          { type: "number" },
          { type: "object", additionalProperties: false, required: ["scalar"], properties: { scalar: name } },
        ],
      },
    },
    label: { type: "string" },
  },
};

const kernel = {
  type: "object",
  additionalProperties: false,
  required: ["key", "family", "template", "variant", "reason", "entryPoint", "workgroupSize", "bindings"],
  properties: {
    key: name,
    family: name,
    template: name,
    variant: { type: "string" },
    reason: { type: "string" },
    entryPoint: name,
    workgroupSize: { type: "array", items: { type: "integer", minimum: 1 }, minItems: 3, maxItems: 3 },
    bindings: {
      type: "array",
      items: { type: "object", additionalProperties: false, required: ["name", "access"], properties: { name, access: { enum: ["read", "read_write", "uniform"] }, type: { type: "string" } } },
    },
    params: {
      type: "array",
      items: { type: "object", additionalProperties: false, required: ["name", "type"], properties: { name, type: { enum: ["u32", "f32", "i32"] } } },
    },
  },
};

const nullableName = { anyOf: [name, { type: "null" }] };

export const graphSchema = {
  type: "object",
  additionalProperties: false,
  required: ["graph", "batch", "seqLen", "buffers", "kernels", "phases", "io", "zeroBeforeStep"],
  properties: {
    graph: { const: GRAPH_VERSION },
    batch: count,
    seqLen: count,
    buffers: { type: "array", items: buffer },
    kernels: { type: "object", additionalProperties: kernel },
    phases: {
      type: "object",
      additionalProperties: false,
      // Generation's phases came later: graphs written before them stay readable.
      required: PHASES.filter((p) => p !== "prefill" && p !== "decode"),
      properties: Object.fromEntries(PHASES.map((p) => [p, { type: "array", items: op }])),
    },
    io: {
      type: "object",
      additionalProperties: false,
      required: ["ids", "labels", "loss", "logits", "params", "grads", "gradSumSq"],
      properties: {
        ids: nullableName, labels: nullableName, loss: nullableName, logits: nullableName, params: nullableName, grads: nullableName, gradSumSq: nullableName,
        adapterIndex: name,
        virtualTokens: { type: "integer", minimum: 1 },
        generate: {
          type: "object",
          additionalProperties: false,
          required: ["ids", "positions", "logits", "chunk", "capacity"],
          properties: { ids: name, positions: name, logits: name, chunk: { type: "integer", minimum: 1 }, capacity: { type: "integer", minimum: 1 }, virtualTokens: { type: "integer", minimum: 1 } },
        },
      },
    },
    zeroBeforeStep: { type: "array", items: name },
  },
};

const validate = createAjv().compile(graphSchema);

/**
 * Schema problems, then reference problems: every binding names a buffer and a
 * kernel binding, every op a kernel, every view a flat buffer.
 */
export function graphProblems(value: unknown): string[] {
  if (!validate(value)) return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
  const graph = value as unknown as Graph;
  const problems: string[] = [];
  const buffers = new Set(graph.buffers.map((b) => b.name));
  for (const b of graph.buffers) {
    if (b.view && !buffers.has(b.view.of)) problems.push(`buffer ${b.name} is a view of ${b.view.of}, which the graph lacks`);
    if (b.role === "activation" && b.slot === undefined) problems.push(`activation ${b.name} has no memory slot`);
    if (b.packed && (b.role !== "weight" || b.type !== "u32" || b.size !== Math.ceil(b.shape.reduce((a, x) => a * x, 1) / 2))) {
      problems.push(`packed buffer ${b.name} must be a u32 weight of half its shape's elements`);
    }
  }
  const generate = graph.io.generate;
  for (const io of [graph.io.adapterIndex, generate?.ids, generate?.positions, generate?.logits]) {
    if (io !== undefined && !buffers.has(io)) problems.push(`io names buffer ${io}, which the graph lacks`);
  }
  for (const [phase, ops] of Object.entries(graph.phases)) {
    ops.forEach((op, i) => {
      const kernel = graph.kernels[op.kernel];
      if (!kernel) return problems.push(`${phase}[${i}] (${op.label}) runs kernel ${op.kernel}, which the graph lacks`);
      for (const k of kernel.bindings) {
        if (k.access !== "uniform" && !(k.name in op.bind)) problems.push(`${phase}[${i}] (${op.label}) leaves binding ${k.name} of kernel ${op.kernel} unbound`);
      }
      for (const [binding, buffer] of Object.entries(op.bind)) {
        if (!buffers.has(buffer)) problems.push(`${phase}[${i}] (${op.label}) binds ${binding} to ${buffer}, which the graph lacks`);
        if (!kernel.bindings.some((k) => k.name === binding)) problems.push(`${phase}[${i}] (${op.label}) binds ${binding}, which kernel ${op.kernel} does not declare`);
      }
    });
  }
  return problems;
}
