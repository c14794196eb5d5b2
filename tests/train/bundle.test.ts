// Bundles: written by peftc compile, byte for byte the same for the same
// inputs, trainable from any working directory, and refused against another model.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { hasStackTrace, peftc } from "../helpers/cli.js";
import { scratchDir, tinyModel } from "../helpers/fixtures.js";
import { colourPairs, writeJsonl } from "../fixtures/data.js";

const dir = scratchDir("bundle");
const model = tinyModel("llama");
writeJsonl(join(dir, "train.jsonl"), colourPairs(32, 5));
const spec = join(dir, "s.peft");
writeFileSync(spec, `peft 1\nmodel llama { path = "${model}" }\nadapter chat: lora { r = 4  use_dora = true  target "q_proj", "v_proj" }\ntrain chat { data = "train.jsonl"  seq_len = 16  batch = 2  steps = 3 }\n`);

function files(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      if (name.isDirectory()) walk(join(d, name.name), `${prefix}${name.name}/`);
      else out.set(`${prefix}${name.name}`, readFileSync(join(d, name.name)));
    }
  };
  walk(root, "");
  return out;
}

test("the same spec and model give byte-identical bundles", () => {
  const a = join(dir, "a");
  const b = join(dir, "b");
  assert.is(peftc(["compile", spec, "-o", a]).status, 0);
  assert.is(peftc(["compile", spec, "-o", b]).status, 0);
  const fa = files(a);
  const fb = files(b);
  assert.equal([...fa.keys()].sort(), [...fb.keys()].sort());
  for (const [name, bytes] of fa) assert.ok(bytes.equals(fb.get(name)!), `${name} differs`);
  for (const name of ["bundle.json", "plan.json", "graph.json", "spec.peft", "peft/chat.json"]) assert.ok(fa.has(name), name);
  assert.ok([...fa.keys()].some((n) => n.startsWith("kernels/") && n.endsWith(".wgsl")));
  const index = JSON.parse(fa.get("bundle.json")!.toString());
  assert.is(index.model.fingerprint.slice(0, 7), "sha256:");
  assert.ok(index.kernels.every((k: { reason: string }) => k.reason.length > 0));
});

test("--emit plan and --emit graph print the stages", () => {
  const plan = JSON.parse(peftc(["compile", spec, "--emit", "plan"]).stdout);
  assert.is(plan.adapters[0].method, "lora");
  const graph = JSON.parse(peftc(["compile", spec, "--emit", "graph"]).stdout);
  assert.ok(graph.phases.forward.length > 0 && graph.phases.backward.length > 0);
  assert.ok(graph.buffers.some((b: { role: string }) => b.role === "parameter"));
});

test("a bundle trains, and refuses another model with a clear error", () => {
  const bundle = join(dir, "a");
  const ok = peftc(["train", bundle, "--model", model, "--data", join(dir, "train.jsonl"), "--out", join(dir, "run")]);
  assert.is(ok.status, 0, ok.stderr);
  const other = peftc(["train", bundle, "--model", tinyModel("llama", { seed: 9 }), "--data", join(dir, "train.jsonl"), "--out", join(dir, "run2")]);
  assert.is(other.status, 1);
  assert.match(other.stderr, "was compiled for another model");
  assert.ok(!hasStackTrace(other.stderr), other.stderr);
});

test("a damaged graph.json is refused with the graph's problem, before any GPU work", () => {
  const bundle = join(dir, "damaged");
  assert.is(peftc(["compile", spec, "-o", bundle]).status, 0);
  const graphPath = join(bundle, "graph.json");
  const graph = JSON.parse(readFileSync(graphPath, "utf8"));
  graph.phases.forward[0].bind.x = "no_such_buffer";
  writeFileSync(graphPath, JSON.stringify(graph));
  const run = peftc(["train", bundle, "--model", model, "--data", join(dir, "train.jsonl"), "--out", join(dir, "run3")]);
  assert.is(run.status, 1);
  assert.match(run.stderr, "graph.json is not a valid graph");
  assert.match(run.stderr, "no_such_buffer");
  assert.ok(!hasStackTrace(run.stderr), run.stderr);
  graph.phases.forward[0].dispatch = "many";
  writeFileSync(graphPath, JSON.stringify(graph));
  const typed = peftc(["train", bundle, "--model", model, "--out", join(dir, "run4")]);
  assert.is(typed.status, 1);
  assert.match(typed.stderr, "/phases/forward/0/dispatch");
});

test("a bundle of a spec with relative model and data paths trains from another working directory", () => {
  // The spec's paths are relative to its own folder; compile and train each run from elsewhere.
  const root = join(dir, "relative");
  mkdirSync(join(root, "specs"), { recursive: true });
  const elsewhere = join(root, "elsewhere", "deeper");
  mkdirSync(elsewhere, { recursive: true });
  writeJsonl(join(root, "data.jsonl"), colourPairs(16, 7));
  writeFileSync(join(root, "specs", "r.peft"), `peft 1\nmodel llama { path = "${relative(join(root, "specs"), model)}" }\nadapter chat: lora { r = 2  target "q_proj" }\ntrain chat { data = "../data.jsonl"  seq_len = 16  batch = 2  steps = 1 }\n`);
  const compiled = peftc(["compile", join(root, "specs", "r.peft"), "-o", "bundle"], { cwd: root });
  assert.is(compiled.status, 0, compiled.stderr);
  const trained = peftc(["train", join(root, "bundle"), "--out", join(root, "run"), "--json"], { cwd: elsewhere });
  assert.is(trained.status, 0, trained.stderr);
  assert.is(JSON.parse(trained.stdout).steps, 1);
});

test.run();
