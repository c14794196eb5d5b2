// LoHa trained end to end through the command line: the eval loss of a task
// the base model cannot do falls to under half, with rank and module dropout
// on; the adapter is saved in PEFT's format and evaluates to the same loss.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SafetensorsFile } from "../../../runtime/files/safetensors.js";
import { assertReloadedLoss, evalLoss, peftc, trainJson } from "../../helpers/cli.js";
import { scratchDir, tinyModel } from "../../helpers/fixtures.js";
import { colourPairs, writeJsonl } from "../../fixtures/data.js";

const dir = scratchDir("loha-train");
const model = tinyModel("llama");
writeJsonl(join(dir, "train.jsonl"), colourPairs(128, 31));
writeJsonl(join(dir, "eval.jsonl"), colourPairs(24, 32));

test("training LoHa makes the eval loss fall by more than half; the saved adapter is PEFT's and evaluates the same", () => {
  const base = evalLoss(model, join(dir, "eval.jsonl"));
  const spec = join(dir, "loha.peft");
  writeFileSync(spec, `peft 1
model llama { path = "${model}" }
adapter style: loha { r = 4  alpha = 8  rank_dropout = 0.1  module_dropout = 0.1  target "q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj" }
train style {
  data = "train.jsonl" { format = completion  eval = "eval.jsonl" }
  seq_len = 32  batch = 8  steps = 30  seed = 3  log_every = 10
  optimizer = adamw { lr = 1e-2 }
  schedule = cosine { warmup = 3 }
}
`);
  const out = join(dir, "run");
  const summary = trainJson([spec, "--out", out]);
  assert.ok(summary.eval_loss < base / 2, `eval loss ${summary.eval_loss} vs base ${base}`);
  assertReloadedLoss(model, join(dir, "eval.jsonl"), join(out, "adapter"), summary.eval_loss);
  const config = JSON.parse(readFileSync(join(out, "adapter", "adapter_config.json"), "utf8"));
  assert.is(config.peft_type, "LOHA");
  assert.is(config.r, 4);
  assert.is(config.alpha, 8);
  assert.is(config.rank_dropout, 0.1);
  assert.is(config.module_dropout, 0.1);
  const weights = SafetensorsFile.open(join(out, "adapter", "adapter_model.safetensors"));
  for (const name of ["hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b"]) {
    assert.ok(weights.tensors.has(`base_model.model.model.layers.0.self_attn.q_proj.${name}`), name);
  }
  assert.equal(weights.tensors.get("base_model.model.model.layers.0.mlp.up_proj.hada_w1_a")!.shape, [176, 4]);
});

test("LoHa on GPT-2's Conv1D is refused, as PEFT refuses it", () => {
  const spec = join(dir, "gpt2.peft");
  writeFileSync(spec, `peft 1\nmodel gpt2 { path = "${tinyModel("gpt2")}" }\nadapter a: loha { r = 4  target "c_attn" }\n`);
  const result = peftc(["compile", spec, "-o", join(dir, "gpt2-bundle")]);
  assert.is(result.status, 1, result.stderr);
  assert.match(result.stderr, /loha cannot adapt transformer\.h\.0\.attn\.c_attn, a conv1d layer/);
});

test.run();
