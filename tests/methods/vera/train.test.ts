// Training VeRA through the command line: on a task the base model cannot do
// the eval loss falls to under half its start; the adapter is saved in PEFT's
// layout with the projections PEFT would make from the same key, and loads
// back to the same eval loss. With save_projection = false the file holds only
// the λ vectors and loading regenerates the projections from the key.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { kaimingBound } from "../../../compiler/methods/vera/tensors-graph.js";
import { torchUniformFloat32 } from "../../../runtime/executor/torch-random.js";
import { SafetensorsFile, readTensorBytes, toFloat32 } from "../../../runtime/files/safetensors.js";
import { assertReloadedLoss, evalLoss, trainJson } from "../../helpers/cli.js";
import { scratchDir, tinyModel } from "../../helpers/fixtures.js";
import { colourPairs, writeJsonl } from "../../fixtures/data.js";

const dir = scratchDir("vera-train");
const model = tinyModel("llama");
writeJsonl(join(dir, "train.jsonl"), colourPairs(128, 21));
writeJsonl(join(dir, "eval.jsonl"), colourPairs(24, 22));
const TARGETS = 'target "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"';

function spec(name: string, adapter: string, steps: number): string {
  const path = join(dir, `${name}.peft`);
  writeFileSync(path, `peft 1\nmodel llama { path = "${model}" }\nadapter chat: vera { ${adapter} }\ntrain chat {\n  data = "train.jsonl" { format = completion  eval = "eval.jsonl" }\n  seq_len = 32  batch = 8  steps = ${steps}  seed = 1  log_every = 10  optimizer = adamw { lr = 3e-2 }  schedule = cosine { warmup = 3 }\n}\n`);
  return path;
}

let baseLoss: number | undefined;
const base = () => (baseLoss ??= evalLoss(model, join(dir, "eval.jsonl")));

test("training VeRA makes the eval loss fall by more than half; the saved adapter loads to the same loss", () => {
  const out = join(dir, "run");
  const summary = trainJson([spec("task", `r = 64  projection_prng_key = 11  dropout = 0.05  ${TARGETS}`, 30), "--out", out]);
  assert.ok(summary.eval_loss < base() / 2, `eval loss ${summary.eval_loss} vs base ${base()}`);
  assertReloadedLoss(model, join(dir, "eval.jsonl"), join(out, "adapter"), summary.eval_loss);
  const config = JSON.parse(readFileSync(join(out, "adapter", "adapter_config.json"), "utf8"));
  assert.is(config.peft_type, "VERA");
  assert.is(config.projection_prng_key, 11);
  assert.is(config.save_projection, true);
  const weights = SafetensorsFile.open(join(out, "adapter", "adapter_model.safetensors"));
  const read = (key: string) => toFloat32(readTensorBytes(weights.tensors.get(key)!), "F32");
  // 4 layers × 7 targets × (λ_b, λ_d), and the shared pair sized to the widest layer (down_proj in, gate/up out).
  assert.is(weights.tensors.size, 4 * 7 * 2 + 2);
  assert.equal(weights.tensors.get("base_model.vera_A")!.shape, [64, 176]);
  assert.equal(weights.tensors.get("base_model.vera_B")!.shape, [176, 64]);
  // The projections are PEFT's for key 11: torch's generator, vera_A then vera_B.
  assert.equal(read("base_model.vera_A"), torchUniformFloat32(11, kaimingBound(176), 64 * 176));
  assert.equal(read("base_model.vera_B"), torchUniformFloat32(11, kaimingBound(64), 176 * 64, 64 * 176));
  // λ_b starts at 0: training moved it.
  assert.ok(read("base_model.model.model.layers.0.self_attn.q_proj.vera_lambda_b").some((v) => v !== 0));
});

test("with save_projection = false only the λ vectors are saved, and loading regenerates the projections", () => {
  const out = join(dir, "run-noproj");
  const summary = trainJson([spec("noproj", `r = 16  save_projection = false  ${TARGETS}`, 3), "--out", out]);
  // The adapter moved the loss, so projections regenerated wrongly would show.
  assert.ok(Math.abs(summary.eval_loss - base()) > 1e-2, `eval loss ${summary.eval_loss} vs base ${base()}`);
  const weights = SafetensorsFile.open(join(out, "adapter", "adapter_model.safetensors"));
  assert.is(weights.tensors.size, 4 * 7 * 2);
  assert.ok(![...weights.tensors.keys()].some((k) => k.includes("vera_A") || k.includes("vera_B")));
  assert.is(JSON.parse(readFileSync(join(out, "adapter", "adapter_config.json"), "utf8")).save_projection, false);
  assertReloadedLoss(model, join(dir, "eval.jsonl"), join(out, "adapter"), summary.eval_loss);
});

test.run();
