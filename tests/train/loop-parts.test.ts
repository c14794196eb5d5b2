// The parts of the training loop that are not kernels: schedules, checkpoints,
// metrics and the loss plot.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { latestCheckpoint, writeCheckpoint } from "../../runtime/train/checkpoint.js";
import { MetricsLog } from "../../runtime/train/metrics.js";
import { lossCurveSvg } from "../../runtime/train/plot.js";
import { learningRate } from "../../runtime/train/schedule.js";
import { scratchDir } from "../helpers/fixtures.js";

test("schedules follow transformers: warmup from 0, linear and cosine decay", () => {
  const base = { lr: 1e-3, warmup: 10, steps: 110, minLrRatio: 0 };
  assert.is(learningRate({ ...base, name: "constant" }, 0), 0);
  assert.is(learningRate({ ...base, name: "constant" }, 5), 5e-4);
  assert.is(learningRate({ ...base, name: "constant" }, 50), 1e-3);
  assert.is(learningRate({ ...base, name: "linear" }, 10), 1e-3);
  assert.ok(Math.abs(learningRate({ ...base, name: "linear" }, 60) - 5e-4) < 1e-15);
  assert.is(learningRate({ ...base, name: "linear" }, 110), 0);
  assert.ok(Math.abs(learningRate({ ...base, name: "cosine" }, 60) - 5e-4) < 1e-15);
  assert.ok(Math.abs(learningRate({ ...base, name: "cosine", minLrRatio: 0.1 }, 110) - 1e-4) < 1e-15);
  assert.is(learningRate({ ...base, warmup: 0, name: "cosine" }, 0), 1e-3);
});

test("checkpoints: written whole, the newest read back, older ones pruned, half-written ones ignored", () => {
  const root = scratchDir("ckpt");
  const tensors = (v: number) => ({
    params: new Map([["a", new Float32Array([v, v + 1])]]),
    m: new Map([["a", new Float32Array([0.1, 0.2])]]),
    v: new Map([["a", new Float32Array([0.3, 0.4])]]),
    shapes: new Map([["a", [2]]]),
  });
  for (const step of [10, 20, 30]) writeCheckpoint(root, { version: 1, step, bundle: "b", seed: 1 }, tensors(step));
  assert.equal(readdirSync(root).sort(), ["step-00000020", "step-00000030"]);
  // A checkpoint killed before its state file, and a stray temporary directory.
  mkdirSync(join(root, "step-00000040"));
  writeFileSync(join(root, "step-00000040", "tensors.safetensors"), "partial");
  mkdirSync(join(root, ".step-00000050.123.tmp"));
  const latest = latestCheckpoint(root)!;
  assert.is(latest.state.step, 30);
  assert.equal([...latest.tensors.params.get("a")!], [30, 31]);
  assert.equal([...latest.tensors.v.get("a")!].map((x) => Number(x.toFixed(6))), [0.3, 0.4]);
  writeCheckpoint(root, { version: 1, step: 60, bundle: "b", seed: 1 }, tensors(60));
  assert.ok(!existsSync(join(root, ".step-00000050.123.tmp")));
  assert.is(latestCheckpoint(scratchDir("empty")), undefined);
});

test("metrics.jsonl appends, tolerates a torn last line, and truncates for a resume", () => {
  const path = join(scratchDir("metrics"), "metrics.jsonl");
  const log = new MetricsLog(path);
  for (const step of [10, 20, 30]) log.append({ step, loss: 1 / step });
  writeFileSync(path, `${JSON.stringify({ step: 10, loss: 0.1 })}\n${JSON.stringify({ step: 20, loss: 0.05 })}\n{"step": 3`, { flag: "w" });
  assert.equal(log.read().map((r) => r.step), [10, 20]);
  // A resume rewrites the file before appending, so the torn line is gone.
  assert.equal(log.truncate(20, 30).map((r) => r.step), [10, 20]);
  log.append({ step: 30, loss: 0.03 });
  log.append({ step: 30, eval_loss: 0.03 });
  assert.equal(log.truncate(30, 30).map((r) => [r.step, r.eval_loss]), [[10, undefined], [20, undefined], [30, undefined]]);
  assert.equal(log.truncate(20, 30).map((r) => r.step), [10, 20]);
  assert.equal(log.read().map((r) => r.step), [10, 20]);
});

test("the loss plot is an SVG with the curve, eval points and axes", () => {
  const svg = lossCurveSvg("run", [{ step: 0, loss: 5 }, { step: 10, loss: 3 }, { step: 20, loss: 1.5 }], [{ step: 20, loss: 1.7 }]);
  assert.ok(svg.startsWith("<svg"));
  assert.match(svg, /<path d="M[\d.]+,[\d.]+ L/);
  assert.match(svg, "eval loss 1.7000 at step 20");
  assert.match(svg, "optimizer step");
});

test.run();
