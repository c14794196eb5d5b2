// Cold pipeline compilation: how long a training step's kernels take to
// compile with an empty shader cache (what a new user's first run pays), all
// at once as the runtime compiles them, and one at a time (which kernels cost
// most). Each measurement runs in a child process with its own empty
// MESA_SHADER_CACHE_DIR, since Mesa reads it when the driver loads.
//   node dist/bench/compile.js [--hidden 256] [--each] [--json]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { lowerCausalLM } from "../compiler/graph/causal-lm.js";
import type { KernelSource } from "../compiler/codegen/types.js";
import { loadModel } from "../compiler/models/load.js";
import { buildPlan } from "../compiler/resolve/plan.js";
import { analyzeSpec } from "../compiler/spec/analyze.js";
import { releaseDevice } from "../runtime/device.js";
import { acquireRuntime } from "../runtime/gpu/index.js";
import { writeTinyModel } from "../tests/fixtures/models.js";

export interface CompileBench {
  model: string;
  kernels: number;
  dispatches: number;
  /** Wall-clock seconds to compile every kernel concurrently, cold. */
  allSeconds: number;
  /** Per kernel, compiled alone and cold, slowest first (with --each). */
  each?: { key: string; seconds: number; lines: number }[];
}

const LORA_ALL = 'adapter a: lora { r = 8  alpha = 16  target "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" }';

/** The reference step: Llama hidden `hidden`, 4 blocks, LoRA r=8 on all seven projections, 4 × 128 tokens. */
export async function stepKernels(hidden: number): Promise<{ model: string; kernels: KernelSource[]; dispatches: number }> {
  const dir = join(mkdtempSync(join(tmpdir(), "peftc-compile-bench-")), "llama");
  const intermediate = hidden === 256 ? 688 : Math.round((hidden * 8) / 3 / 8) * 8;
  writeTinyModel(dir, "llama", { hidden, heads: hidden / 64, kvHeads: Math.max(1, hidden / 128), intermediate, layers: 4 });
  const model = loadModel(dir);
  const rt = await acquireRuntime();
  const spec = analyzeSpec({ path: "bench.peft", text: `peft 1\n${LORA_ALL}\n` });
  const planned = buildPlan(spec.ir!, model.tree);
  const { graph, wgsl } = lowerCausalLM({
    tree: model.tree, plan: planned.plan!, batch: 4, seqLen: 128, device: rt.profile,
    optimizer: { lr: 1e-4, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1 },
  });
  rmSync(join(dir, ".."), { recursive: true, force: true });
  const kernels = Object.entries(graph.kernels).map(([key, meta]) => ({ ...meta, wgsl: wgsl.get(key)! }));
  const dispatches = graph.phases.forward.length + graph.phases.loss.length + graph.phases.backward.length + graph.phases.optimizer.length;
  return { model: `Llama hidden ${hidden}, 4 blocks, intermediate ${intermediate}, vocab ${model.tree.config.vocabSize}`, kernels, dispatches };
}

/** In a child: compiles the kernels (all, or only index `only`) and prints the seconds. */
async function child(hidden: number, only: number | undefined): Promise<void> {
  const { kernels } = await stepKernels(hidden);
  const rt = await acquireRuntime();
  const chosen = only === undefined ? kernels : [kernels[only]!];
  const t0 = performance.now();
  await rt.pipelines.prepare(chosen);
  process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - t0) / 1000 })}\n`);
}

function coldRun(hidden: number, only?: number): number {
  const cache = mkdtempSync(join(tmpdir(), "peftc-cold-cache-"));
  try {
    const args = [fileURLToPath(import.meta.url), "--child", "--hidden", String(hidden), ...(only !== undefined ? ["--only", String(only)] : [])];
    const run = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, MESA_SHADER_CACHE_DIR: cache } });
    if (run.status !== 0) throw new Error(`compile child failed: ${run.stderr}`);
    return (JSON.parse(run.stdout.trim().split("\n").pop()!) as { seconds: number }).seconds;
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

export async function compileBenchmark(hidden: number, each: boolean, log: (s: string) => void = () => {}): Promise<CompileBench> {
  const { model, kernels, dispatches } = await stepKernels(hidden);
  log(`cold compile: ${model}: ${kernels.length} kernels, ${dispatches} dispatches a step`);
  const allSeconds = coldRun(hidden);
  log(`  all at once: ${allSeconds.toFixed(1)} s`);
  const result: CompileBench = { model, kernels: kernels.length, dispatches, allSeconds };
  if (each) {
    result.each = kernels.map((k, i) => {
      const seconds = coldRun(hidden, i);
      log(`  ${k.key}: ${seconds.toFixed(2)} s`);
      return { key: k.key, seconds, lines: k.wgsl.split("\n").length };
    }).sort((a, b) => b.seconds - a.seconds);
  }
  return result;
}

const isMain = process.argv[1]?.endsWith("bench/compile.js");
if (isMain) {
  const argv = process.argv.slice(2);
  const value = (flag: string) => (argv.includes(flag) ? Number(argv[argv.indexOf(flag) + 1]) : undefined);
  const hidden = value("--hidden") ?? 256;
  if (argv.includes("--child")) {
    await child(hidden, value("--only"));
  } else {
    const json = argv.includes("--json");
    const result = await compileBenchmark(hidden, argv.includes("--each"), (s) => (json ? undefined : process.stderr.write(`${s}\n`)));
    if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  }
  await releaseDevice();
  process.exit(0);
}
