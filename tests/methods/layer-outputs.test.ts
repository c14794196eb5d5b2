// Every adapted layer of every PEFT-saved golden adapter, run alone on the GPU
// through its method's forward hook (not merged): its output equals x·W'ᵀ + b'
// with W' (and b') the weights PEFT's merge_and_unload gives, to a relative
// 1e-5 (an embedding's: the rows of PEFT's merged table at random ids). PEFT's merged layer computes exactly the adapted layer's function, so
// this checks each method's adapted-layer output against PEFT, layer by layer.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { GraphBuilder } from "../../compiler/graph/builder.js";
import { GradTracker } from "../../compiler/graph/grads.js";
import { embeddingForward } from "../../compiler/codegen/embedding.js";
import type { EmbeddingSite } from "../../compiler/graph/embedding.js";
import type { LinearSite } from "../../compiler/graph/linear.js";
import { findMethod } from "../../compiler/methods/registry.js";
import { loadModel } from "../../compiler/models/load.js";
import { loadPeftAdapters } from "../../compiler/peft-config/load-adapter.js";
import { readFloat32 } from "../../runtime/files/checkpoint.js";
import { GraphRunner } from "../../runtime/executor/graph-runner.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import { relativeError } from "../helpers/compare.js";
import { tinyModel } from "../helpers/fixtures.js";
import { goldenDir, kindOfCase, readExpected } from "../helpers/golden.js";
import { testDevice } from "../helpers/gpu.js";
import { randomFloat64 } from "../fixtures/random.js";

const TOKENS = 7;
const cases = readdirSync(join(goldenDir, "adapters")).sort();

for (const name of cases) {
  test(`${name}: each adapted layer's output equals PEFT's merged layer's`, async () => {
    await testDevice();
    const runtime = await acquireRuntime();
    const dir = join(goldenDir, "adapters", name);
    const model = loadModel(tinyModel(kindOfCase(name)));
    const [loaded] = loadPeftAdapters(dir, model.tree);
    const adapter = loaded!.adapter;
    const hooks = findMethod(adapter.method)!.graph!;
    const hook = hooks.linear!;
    const merged = readExpected(join(dir, "expected.safetensors")).merged();
    const g = new GraphBuilder(1, TOKENS, 0, false);
    const ctx = { g, grads: new GradTracker(g), device: runtime.profile, adapter };
    const sites: { site: LinearSite; weight: string; bias?: string }[] = [];
    const embeddings: { site: EmbeddingSite; weight: string; ids: Int32Array }[] = [];
    for (const module of adapter.modules) {
      const node = model.tree.modules.find((m) => m.path === module.path)!;
      if (node.kind === "embedding") {
        const site: EmbeddingSite = {
          path: node.path, tokens: TOKENS, vocab: node.inFeatures, dim: node.outFeatures,
          ids: g.input(`ids:${node.path}`, [TOKENS], "i32"),
          table: g.weight(node.weight.name, node.weight.shape),
          y: g.activation(`y:${node.path}`, [TOKENS, node.outFeatures]),
        };
        g.op("forward", embeddingForward({ tokens: TOKENS, vocab: site.vocab, D: site.dim }, runtime.profile), { ids: site.ids, table: site.table, out: site.y }, `${node.path} gather`);
        hooks.embedding!.forward(site, module, ctx);
        embeddings.push({ site, weight: node.weight.name, ids: Int32Array.from({ length: TOKENS }, (_, t) => (t * 37 + 5) % site.vocab) });
        continue;
      }
      const site: LinearSite = {
        path: node.path,
        layout: node.kind === "conv1d" ? "in_out" : "out_in",
        tokens: TOKENS,
        inFeatures: node.inFeatures,
        outFeatures: node.outFeatures,
        x: g.input(`x:${node.path}`, [TOKENS, node.inFeatures], "f32"),
        y: g.activation(`y:${node.path}`, [TOKENS, node.outFeatures]),
        weight: g.weight(node.weight.name, node.weight.shape),
        ...(node.bias ? { bias: g.weight(node.bias.name, node.bias.shape) } : {}),
        weightTensor: node.weight.name,
        ...(node.bias ? { biasTensor: node.bias.name } : {}),
      };
      hook.forward(site, module, ctx);
      sites.push({ site, weight: node.weight.name, ...(node.bias ? { bias: node.bias.name } : {}) });
    }
    const ys = [...sites.map((s) => s.site.y), ...embeddings.map((e) => e.site.y)];
    const { graph, wgsl } = g.finish({ ids: null, labels: null, loss: null, logits: null, params: g.trainedElements > 0 ? "params" : null, grads: null, gradSumSq: null }, []);
    // Every output stays readable after the pass: give each its own slot.
    for (const b of graph.buffers) if (ys.includes(b.name)) b.slot = 1000 + ys.indexOf(b.name);
    const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), saved: (k) => loaded!.tensors.get(k), seed: 0 });
    try {
      runner.setScalar("training", 0);
      const inputs = sites.map((s, i) => Float32Array.from(randomFloat64(TOKENS * s.site.inFeatures, 17 + i)));
      sites.forEach((s, i) => runner.write(s.site.x, inputs[i]!));
      embeddings.forEach((e) => runner.write(e.site.ids, e.ids));
      await runner.run(["forward"]);
      let checked = 0;
      for (const { site, weight, ids } of embeddings) {
        const got = new Float32Array(TOKENS * site.dim);
        await runner.read(site.y, got);
        const table = merged.get(weight)!;
        const want = Float64Array.from({ length: TOKENS * site.dim }, (_, i) => table[ids[Math.floor(i / site.dim)]! * site.dim + (i % site.dim)]!);
        const error = relativeError(got, want);
        assert.ok(error <= 1e-5, `${site.path}: relative error ${error}`);
        checked++;
      }
      for (const [i, { site, weight, bias }] of sites.entries()) {
        const got = new Float32Array(TOKENS * site.outFeatures);
        await runner.read(site.y, got);
        // PEFT's merge changed the layer (else the check would hold for an adapter that does nothing).
        assert.ok(merged.has(weight) || (bias !== undefined && merged.has(bias)), `${site.path}: PEFT's merge left the layer as it was`);
        // PEFT's merged weight where it changed one, the base's where it did not.
        const W = merged.get(weight) ?? readFloat32(model.checkpoint, weight);
        const b = bias ? merged.get(bias) ?? readFloat32(model.checkpoint, bias) : undefined;
        const want = new Float64Array(TOKENS * site.outFeatures);
        for (let t = 0; t < TOKENS; t++) {
          for (let o = 0; o < site.outFeatures; o++) {
            let s = b ? b[o]! : 0;
            for (let k = 0; k < site.inFeatures; k++) {
              const w = site.layout === "in_out" ? W[k * site.outFeatures + o]! : W[o * site.inFeatures + k]!;
              s += inputs[i]![t * site.inFeatures + k]! * w;
            }
            want[t * site.outFeatures + o] = s;
          }
        }
        const error = relativeError(got, want);
        assert.ok(error <= 1e-5, `${site.path}: relative error ${error}`);
        checked++;
      }
      assert.is(checked, adapter.modules.length);
    } finally {
      runner.destroy();
    }
  });
}

test.run();
