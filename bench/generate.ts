// Generation benchmarks (never part of npm test): prefill and KV-cached
// decode tokens/s of a small Llama, alone and with LoRA adapters, including
// a mixed-adapter batch (LoRA's fused path beside the generic fallback).
// Each decode step includes its logits readback, as generation pays it.
// Run: npm run build && node dist/bench/generate.js [--json]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lowerDecode } from "../compiler/graph/decode.js";
import { loadModel, type LoadedModel } from "../compiler/models/load.js";
import { buildPlan } from "../compiler/resolve/plan.js";
import type { Plan } from "../compiler/resolve/plan-types.js";
import { analyzeSpec } from "../compiler/spec/analyze.js";
import { releaseDevice } from "../runtime/device.js";
import { GraphRunner } from "../runtime/executor/graph-runner.js";
import { readFloat32 } from "../runtime/files/checkpoint.js";
import { DecodeSession } from "../runtime/generate/session.js";
import { acquireRuntime, type GpuRuntime } from "../runtime/gpu/index.js";
import { writeTinyModel } from "../tests/fixtures/models.js";

export interface GenerateBenchRow {
  name: string;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  msPerStep: number;
}

const PROMPT = 64;
const STEPS = 64;

function planOf(model: LoadedModel, adapters: string): Plan {
  const spec = analyzeSpec({ path: "bench.peft", text: `peft 1\n${adapters}\n` });
  if (!spec.ir) throw new Error(spec.diagnostics.map((d) => d.message).join("\n"));
  const planned = buildPlan(spec.ir, model.tree);
  if (!planned.plan) throw new Error(planned.diagnostics.map((d) => d.message).join("\n"));
  return planned.plan;
}

async function measure(rt: GpuRuntime, model: LoadedModel, name: string, plan: Plan, batch: number, options: { mixed?: { generic?: boolean }; adapters?: readonly number[]; merge?: Plan } = {}): Promise<GenerateBenchRow> {
  // Merged: the base graph, the adapter folded into its weights by the merge phase (its tensors as initialised: the cost is the same).
  const merge = options.merge?.adapters.map((adapter) => ({ adapter, scale: 1 }));
  const { graph, wgsl } = lowerDecode({ tree: model.tree, plan, device: rt.profile, batch, chunk: 16, capacity: 256, ...(options.mixed ? { mixed: options.mixed } : {}), ...(merge ? { merge } : {}) });
  const runner = await GraphRunner.create(rt, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), seed: 1 });
  if (merge) await runner.run(["merge"]);
  const session = new DecodeSession(runner);
  try {
    if (options.adapters) session.setAdapters(options.adapters);
    const vocab = model.tree.config.vocabSize;
    const prompts = Array.from({ length: batch }, (_, b) => Array.from({ length: PROMPT }, (_, t) => 1 + ((t * 7919 + b * 104729) % (vocab - 1))));
    const tokens = Array.from({ length: batch }, (_, b) => 1 + (b % (vocab - 1)));
    // Warm-up: lavapipe compiles each pipeline on its first dispatch.
    await session.prefill(prompts);
    for (let s = 0; s < 2; s++) await session.decode(tokens, tokens.map(() => PROMPT + s));
    const t0 = performance.now();
    await session.prefill(prompts);
    const prefillMs = performance.now() - t0;
    const t1 = performance.now();
    for (let s = 0; s < STEPS; s++) await session.decode(tokens, tokens.map(() => PROMPT + s));
    const decodeMs = performance.now() - t1;
    return {
      name,
      prefillTokensPerSecond: (batch * PROMPT) / (prefillMs / 1000),
      decodeTokensPerSecond: (batch * STEPS) / (decodeMs / 1000),
      msPerStep: decodeMs / STEPS,
    };
  } finally {
    runner.destroy();
  }
}

export async function generateBenchmarks(rt: GpuRuntime, log: (s: string) => void = () => {}): Promise<GenerateBenchRow[]> {
  const dir = join(mkdtempSync(join(tmpdir(), "peftc-bench-")), "llama");
  // The training benchmark's model: 4 blocks of hidden 512 with GQA, about 12M parameters.
  writeTinyModel(dir, "llama", { hidden: 512, heads: 8, kvHeads: 4, intermediate: 1408, layers: 4 });
  const model = loadModel(dir);
  log(`generation benchmarks: Llama hidden 512, 4 blocks, prompt ${PROMPT} tokens, ${STEPS} decode steps, cache 256`);
  const base = planOf(model, "");
  const lora = planOf(model, 'adapter a: lora { r = 16  alpha = 32  target "q_proj", "k_proj", "v_proj", "o_proj" }');
  const two = planOf(model, 'adapter a: lora { r = 16  alpha = 32  target "q_proj", "k_proj", "v_proj", "o_proj" }\nadapter b: lora { r = 8  target "q_proj", "v_proj", "down_proj" }');
  const rows: GenerateBenchRow[] = [];
  for (const [name, plan, batch, options] of [
    ["base model, 1 sequence", base, 1, {}],
    ["LoRA r=16 on q,k,v,o, 1 sequence", lora, 1, {}],
    ["LoRA r=16 merged into the weights (--merge), 1 sequence", base, 1, { merge: lora }],
    ["base model, 4 sequences", base, 4, {}],
    ["LoRA r=16, 4 sequences", lora, 4, {}],
    ["2 LoRA adapters + none mixed, 4 sequences (fused)", two, 4, { mixed: {}, adapters: [0, 1, -1, 0] }],
    ["2 LoRA adapters + none mixed, 4 sequences (generic)", two, 4, { mixed: { generic: true }, adapters: [0, 1, -1, 0] }],
  ] as const) {
    log(`timing ${name} ...`);
    rows.push(await measure(rt, model, name, plan, batch, options));
  }
  return rows;
}

const isMain = process.argv[1]?.endsWith("bench/generate.js");
if (isMain) {
  const json = process.argv.includes("--json");
  const rt = await acquireRuntime();
  const rows = await generateBenchmarks(rt, (s) => (json ? undefined : process.stderr.write(`${s}\n`)));
  if (json) process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
  else {
    for (const r of rows) {
      process.stdout.write(`${r.name.padEnd(56)}  prefill ${Math.round(r.prefillTokensPerSecond).toString().padStart(6)} tokens/s  decode ${r.decodeTokensPerSecond.toFixed(1).padStart(7)} tokens/s  (${r.msPerStep.toFixed(1)} ms/step)\n`);
    }
  }
  await releaseDevice();
  process.exit(0);
}
