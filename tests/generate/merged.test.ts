// Merged inference (PEFT's merge_adapter / unmerge_adapter on loaded
// weights): a generation graph over the base model whose merge phase folds
// PEFT-saved adapters into the weights it reads gives the logits the unmerged
// adapter gives (relative 1e-5), with no adapter op in its forward; its
// unmerge phase gives the base model back. Through the CLI, `eval --merge`
// gives the unmerged adapter's loss and `generate --merge` its tokens.
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tinyModel, scratchDir } from "../helpers/fixtures.js";
import { evalLoss, peftc } from "../helpers/cli.js";
import { randomIds } from "../helpers/graph.js";
import { colourPairs, writeJsonl } from "../fixtures/data.js";
import { argmax, basePlan, decodeSession, goldenAdapters, loadFixture, loadGolden, relativeMax } from "./helpers.js";

const BOUND = 1e-5;
const CASES = [
  { kind: "llama", adapter: "lora-llama" },
  { kind: "llama", adapter: "lora-dora-rslora-patterns-llama" },
  { kind: "llama", adapter: "loha-llama" },
  { kind: "llama", adapter: "lokr-both-llama" },
  { kind: "qwen2", adapter: "lora-regex-qwen2" },
  { kind: "gpt2", adapter: "ia3-gpt2" },
  { kind: "gpt2", adapter: "vera-gpt2" },
] as const;

for (const { kind, adapter } of CASES) {
  test(`${kind} + ${adapter}: merged weights give the adapter's logits; unmerged, the base model's`, async () => {
    const model = loadFixture(tinyModel(kind));
    const vocab = model.tree.config.vocabSize;
    const { plan, adapters } = loadGolden(model, [{ name: "default", dir: adapter }]);
    const shape = { batch: 2, chunk: 4, capacity: 16 };
    const seed = Math.floor(Math.random() * 2 ** 31);
    const prompts = [randomIds(1, 3, vocab, seed)[0]!, randomIds(1, 6, vocab, seed + 1)[0]!];
    const withAdapter = await decodeSession(model, plan, adapters, shape);
    const base = await decodeSession(model, basePlan(model), [], shape);
    const merged = await decodeSession(model, basePlan(model), adapters, { ...shape, merge: [{ adapter: adapters[0]!.adapter, scale: 1 }] });
    try {
      const ops = (s: typeof base) => s.runner.graph.phases.decode.length;
      assert.is(ops(merged), ops(base), "the merged model runs the base model's decoding ops");
      assert.ok(merged.runner.graph.phases.merge.length > 0 && merged.runner.graph.phases.unmerge.length > 0);
      const want = Float32Array.from(await withAdapter.prefill(prompts));
      await merged.runner.run(["merge"]);
      const got = Float32Array.from(await merged.prefill(prompts));
      assert.ok(relativeMax(got, want) <= BOUND, `prefill, merged: relative error ${relativeMax(got, want).toExponential(2)} (seed ${seed})`);
      // One decoding step on the merged cache too.
      const next = [0, 1].map((b) => argmax(want.subarray(b * vocab, (b + 1) * vocab)));
      const positions = prompts.map((p) => p.length);
      const stepWant = Float32Array.from(await withAdapter.decode(next, positions));
      const stepGot = Float32Array.from(await merged.decode(next, positions));
      assert.ok(relativeMax(stepGot, stepWant) <= BOUND, `decode, merged: relative error ${relativeMax(stepGot, stepWant).toExponential(2)}`);
      await merged.runner.run(["unmerge"]);
      const baseWant = Float32Array.from(await base.prefill(prompts));
      const baseGot = Float32Array.from(await merged.prefill(prompts));
      assert.ok(relativeMax(baseGot, baseWant) <= BOUND, `prefill, unmerged: relative error ${relativeMax(baseGot, baseWant).toExponential(2)}`);
      // The adapter changes the logits far beyond the bound, so the comparisons above could fail.
      assert.ok(relativeMax(want, baseWant) > 100 * BOUND, "the adapter barely changes the logits");
    } finally {
      for (const s of [withAdapter, base, merged]) s.runner.destroy();
    }
  });
}

test("peftc eval --merge gives the unmerged adapter's loss; generate --merge its greedy tokens", () => {
  const dir = scratchDir("merged-cli");
  const model = tinyModel("llama");
  const data = join(dir, "eval.jsonl");
  writeJsonl(data, colourPairs(12, 5));
  const adapter = join(goldenAdapters, "lora-dora-rslora-patterns-llama");
  const unmerged = evalLoss(model, data, adapter);
  const result = peftc(["eval", "--model", model, "--adapter", adapter, "--data", data, "--merge", "--json"]);
  assert.is(result.status, 0, result.stderr);
  const merged = JSON.parse(result.stdout) as { loss: number; merged: string[] };
  assert.ok(Math.abs(merged.loss - unmerged) <= 1e-5 * unmerged, `merged ${merged.loss} vs ${unmerged}`);
  assert.equal(merged.merged, ["default"]);
  const generate = (extra: string[]) => {
    const r = peftc(["generate", "--model", model, "--adapter", adapter, "--prompt", "red is", "--prompt", "the sky", "--max-tokens", "8", "--json", ...extra]);
    assert.is(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { results: { tokens: number[] }[] }).results.map((x) => x.tokens);
  };
  assert.equal(generate(["--merge"]), generate([]));
  // Merging needs an adapter, and runs every prompt merged.
  const none = peftc(["generate", "--model", model, "--prompt", "x", "--merge"]);
  assert.is(none.status, 1);
  assert.match(none.stderr, /give at least one --adapter/);
  const use = peftc(["eval", "--model", model, "--adapter", adapter, "--use", "none", "--data", data, "--merge"]);
  assert.is(use.status, 1);
  assert.match(use.stderr, /--use/);
});

test.run();
