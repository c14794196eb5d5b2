// Greedy generation equals transformers + PEFT's greedy `generate` on the
// same tiny models and PEFT-saved adapters (tests/golden/generate.json, made
// by tests/golden/make_generate.py): the prompt tokenizes to the same ids
// here, and the new tokens are the same, without and with the adapter.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadTokenizer } from "../../runtime/data/tokenizer.js";
import { eosTokens } from "../../runtime/generate/eos.js";
import { generateBatch } from "../../runtime/generate/generate.js";
import { tinyModel } from "../helpers/fixtures.js";
import { repoRoot } from "../helpers/paths.js";
import { basePlan, decodeSession, loadFixture, loadGolden } from "./helpers.js";

interface GoldenCase {
  model: "llama" | "qwen2" | "gpt2";
  adapter: string;
  prompt: string;
  prompt_ids: number[];
  max_new_tokens: number;
  base: number[];
  adapted: number[];
}

const golden = JSON.parse(readFileSync(join(repoRoot, "tests", "golden", "generate.json"), "utf8")) as { cases: GoldenCase[] };

for (const c of golden.cases) {
  test(`${c.model}: greedy generation without and with ${c.adapter} gives transformers + PEFT's tokens`, async () => {
    const dir = tinyModel(c.model);
    const model = loadFixture(dir);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    const tokenizer = loadTokenizer(dir, config);
    const ids = [...(tokenizer.addBos && tokenizer.bos !== null ? [tokenizer.bos] : []), ...tokenizer.encode(c.prompt)];
    assert.equal(ids, c.prompt_ids, "the prompt's token ids");
    const settings = { maxTokens: c.max_new_tokens, temperature: 0, topP: 1, seed: 0, eos: eosTokens(dir, tokenizer.eos) };
    const withAdapter = loadGolden(model, [{ name: "default", dir: c.adapter }]);
    for (const [what, plan, adapters, want] of [["base", basePlan(model), [], c.base], ["adapted", withAdapter.plan, withAdapter.adapters, c.adapted]] as const) {
      const session = await decodeSession(model, plan, [...adapters], { batch: 1, chunk: 16, capacity: 64 });
      try {
        const [out] = await generateBatch(session, [{ prompt: ids, adapter: 0, stream: 0 }], settings);
        assert.equal(out!.tokens, want, `${what}: new tokens`);
      } finally {
        session.runner.destroy();
      }
    }
    assert.not.equal(c.base, c.adapted, "the adapter changes what is generated");
  });
}

test.run();
