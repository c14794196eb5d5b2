// LoHa's start (PEFT's reset_adapter_parameters) and its training-time
// dropouts: rank_dropout masks output rows of ΔW and rescales the kept ones by
// 1/mean(keep), module_dropout skips a whole module for a step, both from the
// step's seed, and neither acts outside training.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFloat32 } from "../../../runtime/files/checkpoint.js";
import { referenceLoss } from "../../reference/model.js";
import { graphFor, inputsOf, randomIds } from "../../helpers/graph.js";
import { tinyModel } from "../../helpers/fixtures.js";

const OPTIMIZER = { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0 };

test("LoHa starts as PEFT's: kaiming-uniform factors with w2b = 0, so the model is the base model", async () => {
  const dir = tinyModel("llama");
  const { model, plan, runner } = await graphFor(dir, 'adapter a: loha { r = 4  alpha = 8  target "q_proj", "up_proj" }', { batch: 2, seqLen: 8 }, { optimizer: OPTIMIZER, seed: 9 });
  const { graph } = runner;
  const ids = randomIds(2, 8, model.tree.config.vocabSize, 4);
  const inputs = inputsOf(ids);
  runner.write("ids", inputs.ids);
  runner.write("labels", inputs.targets);
  await runner.run(["forward", "loss"]);
  const flat = new Float32Array(graph.buffers.find((b) => b.name === "params")!.size);
  const losses = new Float32Array(16);
  await runner.read("params", flat);
  await runner.read(graph.io.loss!, losses);
  runner.destroy();
  const r = 4;
  for (const m of plan.adapters[0]!.modules) {
    // kaiming_uniform_(a=√5) bound: 1/√fan_in, fan_in the factor's second dimension.
    const bounds: Record<string, number> = { hada_w1_a: 1 / Math.sqrt(r), hada_w1_b: 1 / Math.sqrt(m.inFeatures), hada_w2_a: 1 / Math.sqrt(r), hada_w2_b: 0 };
    for (const [name, bound] of Object.entries(bounds)) {
      const b = graph.buffers.find((x) => x.key === `base_model.model.${m.path}.${name}`)!;
      const values = flat.slice(b.view!.offset, b.view!.offset + b.size);
      const largest = Math.max(...values.map(Math.abs));
      if (bound === 0) assert.is(largest, 0, `${m.path}.${name} must start at zero`);
      else assert.ok(largest <= bound && largest > 0.8 * bound, `${m.path}.${name}: largest |value| ${largest}, bound ${bound}`);
    }
  }
  const base = referenceLoss(model.tree, (name) => Float64Array.from(readFloat32(model.checkpoint, name)), ids).mean;
  const gpu = losses.reduce((a, b) => a + b, 0) / 14;
  assert.ok(Math.abs(gpu - base) <= 1e-5 * base, `loss ${gpu} vs the base model's ${base}`);
});

test("rank_dropout and module_dropout: seeded per-row factors with PEFT's scaling, identity outside training", async () => {
  const dir = tinyModel("llama");
  // r = 2 and r = 8 so the factors feed both the low-rank and the materialised path.
  const { model, plan, runner } = await graphFor(dir, 'adapter a: loha { r = 2  alpha = 2  rank_dropout = 0.25  module_dropout = 0.25  target "k_proj", "v_proj", "gate_proj", "up_proj", "down_proj"  target "q_proj", "o_proj" { r = 8 } }',
    { batch: 2, seqLen: 8 }, { optimizer: OPTIMIZER, seed: 2 });
  const modules = plan.adapters[0]!.modules;
  const labels = runner.graph.phases.forward.map((op) => op.label);
  assert.ok(labels.some((l) => l.includes("q_proj loha materialised")) && labels.some((l) => l.includes("up_proj loha low-rank")));
  const ids = randomIds(2, 8, model.tree.config.vocabSize, 6);
  const inputs = inputsOf(ids);
  runner.write("ids", inputs.ids);
  runner.write("labels", inputs.targets);
  const factors = async (seed: number, training: number) => {
    runner.setScalar("training", training);
    runner.setScalar("dropoutSeed", seed);
    await runner.run(["forward"]);
    const out = new Map<string, Float32Array>();
    for (const m of modules) {
      const d = new Float32Array(m.outFeatures);
      await runner.read(`loha_d:${m.path}`, d);
      out.set(m.path, d);
    }
    return out;
  };
  try {
    let modulesSeen = 0;
    let modulesDropped = 0;
    let rowsSeen = 0;
    let rowsDropped = 0;
    for (let seed = 1; seed <= 24; seed++) {
      for (const [path, d] of await factors(seed * 7919, 1)) {
        modulesSeen++;
        if (d.every((v) => v === 0)) {
          modulesDropped++;
          continue;
        }
        // Kept rows share one factor, rows / kept, so the factors average exactly 1 (PEFT: drop /= drop.mean()).
        const kept = d.filter((v) => v !== 0);
        assert.ok(kept.every((v) => v === kept[0]), `${path}: kept rows differ`);
        assert.ok(Math.abs(kept[0]! - d.length / kept.length) <= 1e-6 * kept[0]!, `${path}: factor ${kept[0]} for ${kept.length} of ${d.length} rows`);
        rowsSeen += d.length;
        rowsDropped += d.length - kept.length;
      }
    }
    // Frequencies near p = 0.25: within 4 standard deviations.
    const near = (hits: number, n: number) => Math.abs(hits / n - 0.25) <= 4 * Math.sqrt((0.25 * 0.75) / n);
    assert.ok(near(modulesDropped, modulesSeen), `${modulesDropped} of ${modulesSeen} modules dropped`);
    assert.ok(near(rowsDropped, rowsSeen), `${rowsDropped} of ${rowsSeen} rows dropped`);
    // The same seed gives the same factors; another seed others.
    const a = await factors(99, 1);
    const b = await factors(99, 1);
    const c = await factors(100, 1);
    const flat = (m: Map<string, Float32Array>) => [...m.values()].flatMap((d) => [...d]);
    assert.equal(flat(a), flat(b));
    assert.not.equal(flat(a), flat(c));
    // Outside training every factor is 1, whatever the seed.
    for (const d of (await factors(99, 0)).values()) assert.ok(d.every((v) => v === 1));
  } finally {
    runner.destroy();
  }
});

test.run();
