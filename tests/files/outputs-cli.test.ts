// No command writes over what it reads or over a user's files: an output that
// is, holds or lies inside an input (symlinks followed), a directory peftc did
// not write, a file of the wrong kind, or a place that cannot be written is
// refused with exit 1 and a clear message, and every input and user file is
// byte-identical afterwards.
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { hasStackTrace, peftc } from "../helpers/cli.js";
import { scratchDir, tinyModel } from "../helpers/fixtures.js";
import { repoRoot } from "../helpers/paths.js";
import { treeDigest } from "../helpers/tree.js";
import { colourPairs, writeJsonl } from "../fixtures/data.js";

const golden = join(repoRoot, "tests", "golden", "adapters");

/** A workspace: a model, an adapter, data, a spec, and a folder of the user's own files. */
function workspace() {
  const root = scratchDir("outputs");
  const model = join(root, "models", "llama");
  cpSync(tinyModel("llama"), model, { recursive: true });
  const adapter = join(root, "adapters", "lora");
  cpSync(join(golden, "lora-llama"), adapter, { recursive: true });
  writeJsonl(join(root, "train.jsonl"), colourPairs(8, 3));
  const spec = join(root, "spec.peft");
  writeFileSync(spec, `peft 1\nmodel llama { path = "models/llama" }\nadapter chat: lora { r = 2  target "q_proj" }\ntrain chat { data = "train.jsonl"  steps = 1  batch = 2  seq_len = 16 }\n`);
  const mine = join(root, "mine");
  mkdirSync(mine);
  writeFileSync(join(mine, "notes.txt"), "my own notes\n");
  return { root, model, adapter, spec, mine };
}

function refused(args: string[], cwd: string, pattern: RegExp): void {
  const before = treeDigest(cwd);
  const run = peftc(args, { cwd });
  assert.is(run.status, 1, `${args.join(" ")}: exit ${run.status}\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stderr, pattern, `${args.join(" ")}: ${run.stderr}`);
  assert.ok(!hasStackTrace(run.stderr), run.stderr);
  assert.is(treeDigest(cwd), before, `${args.join(" ")} changed files`);
}

test("merge -o refuses the model directory, the folder holding it, a symlink to it, a folder inside it and a folder of the user's files", () => {
  const w = workspace();
  symlinkSync(w.model, join(w.root, "model-link"));
  const merge = (out: string) => ["merge", "--model", w.model, "--adapter", w.adapter, "-o", out];
  refused(merge(w.model), w.root, /is the base model/);
  refused(merge("."), w.root, /holds the base model/);
  refused(merge(join(w.root, "models")), w.root, /holds the base model/);
  refused(merge("model-link"), w.root, /is the base model/);
  refused(merge(join(w.model, "merged")), w.root, /lies inside the base model/);
  refused(merge(join(w.root, "adapters")), w.root, /holds the adapter/);
  refused(merge(w.mine), w.root, /holds files peftc did not write \(notes\.txt\)/);
});

test("compile -o and combine -o refuse their inputs and the folders that hold them", () => {
  const w = workspace();
  refused(["compile", w.spec, "-o", w.model], w.root, /is the model/);
  refused(["compile", w.spec, "-o", "."], w.root, /holds the spec/);
  refused(["compile", w.spec, "-o", w.mine], w.root, /did not write/);
  refused(["combine", "--adapter", w.adapter, "--adapter", w.adapter, "--combine", "cat", "-o", w.model, "--model", w.model], w.root, /is the model/);
  refused(["combine", "--adapter", w.adapter, "--adapter", w.adapter, "--combine", "cat", "-o", join(w.root, "adapters")], w.root, /holds adapter 1/);
  refused(["combine", "--adapter", w.adapter, "--adapter", w.adapter, "--combine", "cat", "-o", w.adapter], w.root, /is adapter 1/);
});

test("train --out refuses a file, the model and the user's folder, and leaves no directory behind on bad data", () => {
  const w = workspace();
  writeFileSync(join(w.root, "a-file"), "x");
  refused(["train", w.spec, "--out", "a-file"], w.root, /exists and is not a directory/);
  refused(["train", w.spec, "--out", w.model], w.root, /is the model/);
  refused(["train", w.spec, "--out", w.mine], w.root, /did not write/);
  writeFileSync(join(w.root, "bad.jsonl"), "{not json\n");
  refused(["train", w.spec, "--data", "bad.jsonl", "--out", "runs/new"], w.root, /bad\.jsonl:1/);
});

test("import -o and inspect --svg write files, replace only their own, and refuse directories and other files", () => {
  const w = workspace();
  const config = join(w.adapter, "adapter_config.json");
  refused(["import", config, "-o", w.mine], w.root, /is a directory/);
  refused(["import", config, "-o", config], w.root, /is the PEFT config/);
  refused(["import", config, "-o", join(w.mine, "notes.txt")], w.root, /peftc did not write it/);
  refused(["import", config, "-o", join(w.root, "train.jsonl", "spec.peft")], w.root, /cannot write in/);
  const spec = join(w.root, "imported.peft");
  for (let i = 0; i < 2; i++) assert.is(peftc(["import", config, "-o", spec], { cwd: w.root }).status, 0, "import writes, then replaces its own file");
  assert.is(peftc(["check", spec]).status, 0, readFileSync(spec, "utf8"));
  refused(["inspect", w.spec, "--svg", w.mine], w.root, /is a directory/);
  refused(["inspect", w.spec, "--svg", w.spec], w.root, /is the spec/);
  const svg = join(w.root, "heat.svg");
  for (let i = 0; i < 2; i++) assert.is(peftc(["inspect", w.spec, "--svg", svg], { cwd: w.root }).status, 0);
  assert.match(readFileSync(svg, "utf8"), /<svg /);
});

test("an output peftc wrote is replaced by one of the same kind only", () => {
  const w = workspace();
  const bundle = join(w.root, "bundle");
  for (let i = 0; i < 2; i++) {
    const run = peftc(["compile", w.spec, "-o", bundle], { cwd: w.root });
    assert.is(run.status, 0, run.stderr);
  }
  refused(["combine", "--adapter", w.adapter, "--adapter", w.adapter, "--combine", "cat", "-o", bundle], w.root, /holds a bundle peftc wrote, not an adapter/);
});

test.run();
