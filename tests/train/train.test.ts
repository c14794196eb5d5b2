// Training end to end through the command line: the loss falls on a task the
// base model cannot do, runs are reproducible bit for bit, a run killed at
// any moment resumes exactly, NaN stops cleanly, and the saved adapter
// evaluates (here and in the reference) to the same loss.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModel } from "../../compiler/models/load.js";
import { readFloat32 } from "../../runtime/files/checkpoint.js";
import { baseWeights } from "../helpers/graph.js";
import { SafetensorsFile, readTensorBytes, toFloat32 } from "../../runtime/files/safetensors.js";
import { latestCheckpoint, readCheckpoint } from "../../runtime/train/checkpoint.js";
import { loadTokenizer } from "../../runtime/data/tokenizer.js";
import { referenceLoss } from "../reference/model.js";
import { assertReloadedLoss, evalLoss, hasStackTrace, peftc, trainJson } from "../helpers/cli.js";
import { scratchDir, tinyModel } from "../helpers/fixtures.js";
import { colourPairs, writeJsonl } from "../fixtures/data.js";

const dir = scratchDir("train");
const model = tinyModel("llama");
writeJsonl(join(dir, "train.jsonl"), colourPairs(128, 21));
writeJsonl(join(dir, "eval.jsonl"), colourPairs(24, 22));

function spec(name: string, train: string, adapter = 'r = 8  alpha = 16  target "q_proj", "k_proj", "v_proj", "o_proj", "down_proj"'): string {
  const path = join(dir, `${name}.peft`);
  writeFileSync(path, `peft 1\nmodel llama { path = "${model}" }\nadapter chat: lora { ${adapter} }\ntrain chat {\n  data = "train.jsonl" { format = completion  eval = "eval.jsonl" }\n  ${train}\n}\n`);
  return path;
}

const losses = (out: string) => readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { step: number; loss?: number; eval_loss?: number });

test("training makes the eval loss of a task the base model cannot do fall by more than half", () => {
  const base = evalLoss(model, join(dir, "eval.jsonl"));
  const out = join(dir, "run-task");
  const summary = trainJson([spec("task", "seq_len = 32  batch = 8  steps = 40  seed = 1  log_every = 10  optimizer = adamw { lr = 5e-3 }  schedule = cosine { warmup = 4 }"), "--out", out]);
  assert.ok(summary.eval_loss < base / 2, `eval loss ${summary.eval_loss} vs base ${base}`);
  // The saved adapter, loaded back, gives the same eval loss.
  assertReloadedLoss(model, join(dir, "eval.jsonl"), join(out, "adapter"), summary.eval_loss);
  // PEFT's layout: config and weights with PEFT's keys; metrics and a plot.
  const config = JSON.parse(readFileSync(join(out, "adapter", "adapter_config.json"), "utf8"));
  assert.is(config.peft_type, "LORA");
  assert.is(config.r, 8);
  const weights = SafetensorsFile.open(join(out, "adapter", "adapter_model.safetensors"));
  assert.ok(weights.tensors.has("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
  assert.equal(weights.metadata, { format: "pt" });
  assert.ok(readFileSync(join(out, "loss.svg"), "utf8").startsWith("<svg"));
  assert.ok(existsSync(join(out, "bundle", "bundle.json")));
});

test("the eval loss of a trained adapter equals the float64 reference with that adapter", () => {
  const out = join(dir, "run-task");
  const adapterDir = join(out, "adapter");
  const weights = SafetensorsFile.open(join(adapterDir, "adapter_model.safetensors"));
  const read = (k: string) => Float64Array.from(toFloat32(readTensorBytes(weights.tensors.get(k)!), "F32"));
  const loaded = loadModel(model);
  const { tree, checkpoint } = loaded;
  const base = baseWeights(loaded);
  const merged = new Map<string, Float64Array>();
  for (const key of weights.tensors.keys()) {
    if (!key.endsWith("lora_A.weight")) continue;
    const path = key.slice("base_model.model.".length, -".lora_A.weight".length);
    const node = tree.modules.find((m) => m.path === path)!;
    const A = read(key);
    const B = read(key.replace("lora_A", "lora_B"));
    const W = Float64Array.from(readFloat32(checkpoint, node.weight.name));
    for (let o = 0; o < node.outFeatures; o++) for (let i = 0; i < node.inFeatures; i++) {
      let d = 0;
      for (let k = 0; k < 8; k++) d += B[o * 8 + k]! * A[k * node.inFeatures + i]!;
      W[o * node.inFeatures + i]! += 2 * d;
    }
    merged.set(path, W);
  }
  const tokenizer = loadTokenizer(model);
  const examples = readFileSync(join(dir, "eval.jsonl"), "utf8").trim().split("\n").slice(0, 4).map((l) => JSON.parse(l) as { prompt: string; completion: string });
  let total = 0;
  let count = 0;
  for (const e of examples) {
    const prompt = [tokenizer.bos!, ...tokenizer.encode(e.prompt)];
    const completion = [...tokenizer.encode(e.completion), tokenizer.eos!];
    const ids = [[...prompt, ...completion]];
    const labels = [[...prompt.map(() => -100), ...completion]];
    const loss = referenceLoss(tree, (name, module) => (module && merged.get(module)) || base(name), ids, labels);
    total += loss.mean * completion.length;
    count += completion.length;
  }
  writeJsonl(join(dir, "four.jsonl"), examples);
  const gpu = JSON.parse(peftc(["eval", "--model", model, "--adapter", adapterDir, "--data", join(dir, "four.jsonl"), "--json"]).stdout);
  assert.is(gpu.tokens, count);
  assert.ok(Math.abs(gpu.loss - total / count) <= 1e-4 * Math.max(1, total / count), `gpu ${gpu.loss} vs reference ${total / count}`);
});

test("the same seed gives the same loss curve, bit for bit", () => {
  const train = "seq_len = 32  batch = 4  grad_accum = 2  steps = 6  seed = 7  log_every = 1  optimizer = adamw { lr = 3e-3 }";
  const path = spec("same", train, 'r = 4  dropout = 0.1  target "q_proj", "v_proj"');
  const a = join(dir, "same-a");
  const b = join(dir, "same-b");
  assert.is(peftc(["train", path, "--out", a]).status, 0);
  assert.is(peftc(["train", path, "--out", b]).status, 0);
  assert.equal(losses(a).map((r) => r.loss ?? r.eval_loss), losses(b).map((r) => r.loss ?? r.eval_loss));
  assert.equal(readFileSync(join(a, "adapter", "adapter_model.safetensors")), readFileSync(join(b, "adapter", "adapter_model.safetensors")));
  const c = join(dir, "same-c");
  writeFileSync(path, readFileSync(path, "utf8").replace("seed = 7", "seed = 8"));
  assert.is(peftc(["train", path, "--out", c]).status, 0);
  assert.not.equal(losses(a).map((r) => r.loss), losses(c).map((r) => r.loss));
});

const cli = fileURLToPath(new URL("../../bin/cli.js", import.meta.url));

/** A run killed after `afterMs`, or (`afterMs` = "checkpoint") as soon as a checkpoint stands in `checkpoints`. */
function killedRun(args: string[], afterMs: number | "checkpoint", checkpoints = ""): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: "ignore", env: { ...process.env, PEFTC_CHILD: "1" } });
    const timer = afterMs === "checkpoint"
      ? setInterval(() => {
        if (existsSync(checkpoints) && latestCheckpoint(checkpoints)) child.kill("SIGKILL");
      }, 20)
      : setTimeout(() => child.kill("SIGKILL"), afterMs);
    child.on("exit", () => {
      clearInterval(timer);
      clearTimeout(timer);
      resolve();
    });
  });
}

test("kill -9 at random moments never leaves a corrupt checkpoint; resuming reproduces the uninterrupted curve", async () => {
  const train = "seq_len = 32  batch = 4  steps = 24  seed = 3  log_every = 1  checkpoint_every = 3  optimizer = adamw { lr = 3e-3 }";
  const path = spec("resume", train, 'r = 4  target "q_proj", "v_proj"');
  const whole = join(dir, "resume-whole");
  assert.is(peftc(["train", path, "--out", whole]).status, 0);
  const broken = join(dir, "resume-broken");
  // Kills at several moments: during start-up, mid-training, around checkpoints.
  for (const ms of [300, 1500, 900, 2500]) {
    await killedRun(["train", path, "--out", broken, "--resume"], ms);
    const checkpoints = join(broken, "checkpoints");
    if (!existsSync(checkpoints)) continue;
    for (const name of readdirSync(checkpoints).filter((n) => n.startsWith("step-"))) {
      // Every step directory that exists reads back whole.
      readCheckpoint(join(checkpoints, name));
    }
    assert.ok(latestCheckpoint(checkpoints) !== undefined || readdirSync(checkpoints).every((n) => n.startsWith(".")));
  }
  const resumed = peftc(["train", path, "--out", broken, "--resume"]);
  assert.is(resumed.status, 0, resumed.stderr);
  assert.equal(losses(broken).map((r) => [r.step, r.loss ?? r.eval_loss]), losses(whole).map((r) => [r.step, r.loss ?? r.eval_loss]));
  assert.equal(readFileSync(join(broken, "adapter", "adapter_model.safetensors")), readFileSync(join(whole, "adapter", "adapter_model.safetensors")));
  // The timed kills may all miss the checkpoints (a cold start compiles for seconds): one more run, killed as soon as
  // its first checkpoint is written, makes sure a resume from mid-way is checked too.
  const mid = join(dir, "resume-mid");
  await killedRun(["train", path, "--out", mid], "checkpoint", join(mid, "checkpoints"));
  const from = latestCheckpoint(join(mid, "checkpoints"))?.state.step ?? 0;
  assert.ok(from > 0 && from < 24, `the killed run left a checkpoint mid-way (step ${from})`);
  const finished = peftc(["train", path, "--out", mid, "--resume"]);
  assert.is(finished.status, 0, finished.stderr);
  assert.equal(losses(mid).map((r) => [r.step, r.loss ?? r.eval_loss]), losses(whole).map((r) => [r.step, r.loss ?? r.eval_loss]));
  assert.equal(readFileSync(join(mid, "adapter", "adapter_model.safetensors")), readFileSync(join(whole, "adapter", "adapter_model.safetensors")));
});

test("a loss that becomes NaN stops training with a clear message and keeps the last checkpoint", () => {
  const path = spec("nan", "seq_len = 32  batch = 4  steps = 30  log_every = 1  checkpoint_every = 2  max_grad_norm = 0  optimizer = adamw { lr = 1e38 }", 'r = 4  init = random  target "q_proj", "v_proj", "down_proj"');
  const out = join(dir, "run-nan");
  const result = peftc(["train", path, "--out", out]);
  assert.is(result.status, 1, result.stdout);
  assert.match(result.stderr, /the loss became (NaN|Infinity|-Infinity) at step \d+/);
  assert.match(result.stderr, "the last good checkpoint is kept");
  assert.ok(!hasStackTrace(result.stderr), result.stderr);
});

test("bad data and bad flags: file:line errors, exit 1 or 2, no stack trace", () => {
  writeFileSync(join(dir, "bad.jsonl"), '{"prompt": "a", "completion": "b"}\n{"prompt": 3}\n');
  const path = spec("bad", "seq_len = 32  batch = 2  steps = 2");
  const result = peftc(["train", path, "--data", join(dir, "bad.jsonl"), "--out", join(dir, "run-bad")]);
  assert.is(result.status, 1);
  assert.match(result.stderr, `${join(dir, "bad.jsonl")}:2:`);
  assert.ok(!hasStackTrace(result.stderr), result.stderr);
  assert.is(peftc(["train", path, "--steps", "zero"]).status, 2);
  const noTrain = join(dir, "notrain.peft");
  writeFileSync(noTrain, `peft 1\nmodel llama { path = "${model}" }\nadapter chat: lora { target "q_proj" }\n`);
  assert.match(peftc(["train", noTrain]).stderr, "has no train block");
});

test.run();
