// Training IA3 through the command line: on the colour task (which the tiny
// random models cannot do) the eval loss falls to under half the base model's,
// on Llama (the example spec, as a user runs it) and on GPT-2's Conv1D; the
// adapter is saved in PEFT's layout and evaluates, loaded back, to the same loss.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SafetensorsFile } from "../../../runtime/files/safetensors.js";
import { writeTinyModel } from "../../fixtures/models.js";
import { colourPairs, writeExampleData, writeJsonl } from "../../fixtures/data.js";
import { assertReloadedLoss, evalLoss, trainJson } from "../../helpers/cli.js";
import { scratchDir, tinyModel } from "../../helpers/fixtures.js";
import { repoRoot } from "../../helpers/paths.js";

const dir = scratchDir("ia3-train");

test("the example spec trains IA3 on Llama: eval loss under half the base's; PEFT's files; the saved adapter evaluates the same", () => {
  // The example's own layout: specs/examples/ia3.peft beside ../../models.
  const root = join(dir, "repo");
  mkdirSync(join(root, "specs", "examples"), { recursive: true });
  const spec = join(root, "specs", "examples", "ia3.peft");
  copyFileSync(join(repoRoot, "specs", "examples", "ia3.peft"), spec);
  writeTinyModel(join(root, "models", "tiny-llama"), "llama");
  writeExampleData(join(root, "models", "data"));
  const model = join(root, "models", "tiny-llama");
  const evalData = join(root, "models", "data", "completion-eval.jsonl");
  const base = evalLoss(model, evalData);
  const out = join(dir, "llama");
  // Fewer steps than the example asks for, to keep the test short.
  const summary = trainJson([spec, "--steps", "40", "--out", out]);
  assert.is(summary.steps, 40);
  assert.ok(summary.eval_loss <= base / 2, `eval loss ${summary.eval_loss} vs base ${base}`);
  const adapter = join(out, "adapter");
  const config = JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8"));
  assert.is(config.peft_type, "IA3");
  assert.equal(config.feedforward_modules, ["down_proj"]);
  const weights = SafetensorsFile.open(join(adapter, "adapter_model.safetensors"));
  assert.equal(weights.tensors.get("base_model.model.model.layers.0.mlp.down_proj.ia3_l")!.shape, [1, 176]);
  assert.equal(weights.tensors.get("base_model.model.model.layers.3.self_attn.k_proj.ia3_l")!.shape, [32, 1]);
  assert.is(weights.tensors.size, 12);
  assertReloadedLoss(model, evalData, adapter, summary.eval_loss);
});

test("IA3 trains GPT-2's Conv1D layers (output-scaled c_attn, input-scaled mlp.c_proj): eval loss under half the base's", () => {
  const model = tinyModel("gpt2");
  writeJsonl(join(dir, "train.jsonl"), colourPairs(128, 21));
  writeJsonl(join(dir, "eval.jsonl"), colourPairs(24, 22));
  const base = evalLoss(model, join(dir, "eval.jsonl"));
  const spec = join(dir, "gpt2.peft");
  writeFileSync(spec, `peft 1
model gpt2 { path = "${model}" }
adapter chat: ia3 { target "c_attn", "mlp.c_proj"  feedforward = ["mlp.c_proj"] }
train chat {
  data = "train.jsonl" { format = completion  eval = "eval.jsonl" }
  seq_len = 32  batch = 8  steps = 40  seed = 1  log_every = 10  optimizer = adamw { lr = 5e-2 }  schedule = cosine { warmup = 4 }
}
`);
  const out = join(dir, "gpt2");
  const summary = trainJson([spec, "--out", out]);
  assert.ok(summary.eval_loss <= base / 2, `eval loss ${summary.eval_loss} vs base ${base}`);
  const config = JSON.parse(readFileSync(join(out, "adapter", "adapter_config.json"), "utf8"));
  assert.is(config.fan_in_fan_out, true);
  assertReloadedLoss(model, join(dir, "eval.jsonl"), join(out, "adapter"), summary.eval_loss);
});

test.run();
