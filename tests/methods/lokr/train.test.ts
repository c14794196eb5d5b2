// Training LoKr end to end through the command line on the colour task (which
// the base model cannot do): the eval loss falls to at most half the base's,
// the adapter is saved in PEFT's layout and evaluates back to the same loss.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SafetensorsFile } from "../../../runtime/files/safetensors.js";
import { assertReloadedLoss, evalLoss, trainJson } from "../../helpers/cli.js";
import { scratchDir, tinyModel } from "../../helpers/fixtures.js";
import { colourPairs, writeJsonl } from "../../fixtures/data.js";

const dir = scratchDir("lokr-train");
const model = tinyModel("llama");
writeJsonl(join(dir, "train.jsonl"), colourPairs(128, 21));
writeJsonl(join(dir, "eval.jsonl"), colourPairs(24, 22));

function spec(name: string, adapter: string, train: string): string {
  const path = join(dir, `${name}.peft`);
  writeFileSync(path, `peft 1\nmodel llama { path = "${model}" }\nadapter kron: lokr { ${adapter} }\ntrain kron {\n  data = "train.jsonl" { format = completion  eval = "eval.jsonl" }\n  ${train}\n}\n`);
  return path;
}

const base = () => evalLoss(model, join(dir, "eval.jsonl"));

test("training LoKr (with rank and module dropout) makes the eval loss fall by more than half", () => {
  const before = base();
  const out = join(dir, "run");
  const path = spec("task", 'r = 4  alpha = 8  rank_dropout = 0.1  module_dropout = 0.05  target "q_proj", "k_proj", "v_proj", "o_proj", "down_proj"',
    "seq_len = 32  batch = 8  steps = 20  seed = 1  log_every = 10  optimizer = adamw { lr = 1e-2 }  schedule = cosine { warmup = 2 }");
  const summary = trainJson([path, "--out", out]);
  assert.ok(summary.eval_loss <= before / 2, `eval loss ${summary.eval_loss} vs base ${before}`);
  // PEFT's layout: LOKR config, ParameterDict keys without ".weight".
  const config = JSON.parse(readFileSync(join(out, "adapter", "adapter_config.json"), "utf8"));
  assert.is(config.peft_type, "LOKR");
  assert.is(config.rank_dropout, 0.1);
  assert.is(config.module_dropout, 0.05);
  const weights = SafetensorsFile.open(join(out, "adapter", "adapter_model.safetensors"));
  assert.equal(weights.tensors.get("base_model.model.model.layers.0.self_attn.q_proj.lokr_w1")?.shape, [8, 8]);
  assert.equal(weights.tensors.get("base_model.model.model.layers.0.mlp.down_proj.lokr_w2_b")?.shape, [4, 16]);
  // Loaded back (evaluation: no dropout), the adapter gives the eval loss training reported.
  assertReloadedLoss(model, join(dir, "eval.jsonl"), join(out, "adapter"), summary.eval_loss);
});

test.run();
