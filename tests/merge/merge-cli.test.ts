// peftc merge writes a Hugging Face model directory: same files, same shards,
// same dtypes, adapted tensors replaced by the merged ones; its eval loss is
// the base+adapter eval loss. Bare-safetensors bases merge too; a merge that
// would write NaN writes nothing.
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { openCheckpoint, readFloat32 } from "../../runtime/files/checkpoint.js";
import { SafetensorsFile, readTensorBytes, toFloat32, writeSafetensors } from "../../runtime/files/safetensors.js";
import { hasStackTrace, peftc } from "../helpers/cli.js";
import { OUTPUT_MARKER } from "../../runtime/files/outputs.js";
import { scratchDir, tinyModel } from "../helpers/fixtures.js";
import { repoRoot } from "../helpers/paths.js";
import { colourPairs, writeJsonl } from "../fixtures/data.js";
import { relativeError } from "../helpers/compare.js";

const golden = join(repoRoot, "tests", "golden", "adapters");
const dir = scratchDir("merge-cli");

function expectedMerged(name: string): Map<string, Float32Array> {
  const file = SafetensorsFile.open(join(golden, name, "expected.safetensors"));
  return new Map([...file.tensors].filter(([k]) => k.startsWith("merged.")).map(([k, info]) => [k.slice(7), toFloat32(readTensorBytes(info), info.dtype)]));
}


test("merging a PEFT adapter into a sharded F32 model keeps its files and shards, and changes only the adapted tensors", () => {
  const base = tinyModel("llama", { shards: 2 });
  const out = join(dir, "sharded");
  const run = peftc(["merge", "--model", base, "--adapter", join(golden, "lora-llama"), "-o", out]);
  assert.is(run.status, 0, run.stderr);
  assert.equal(readdirSync(out).filter((f) => f !== OUTPUT_MARKER).sort(), readdirSync(base).sort());
  assert.equal(JSON.parse(readFileSync(join(out, "model.safetensors.index.json"), "utf8")), JSON.parse(readFileSync(join(base, "model.safetensors.index.json"), "utf8")));
  const before = openCheckpoint(base);
  const after = openCheckpoint(out);
  const want = expectedMerged("lora-llama");
  for (const [name, info] of before.tensors) {
    const got = after.tensors.get(name)!;
    assert.is(got.dtype, info.dtype);
    assert.equal(got.shape, info.shape);
    assert.is(got.file.split("/").pop(), info.file.split("/").pop(), `${name} moved shard`);
    const values = readFloat32(after, name);
    if (want.has(name)) assert.ok(relativeError(values, want.get(name)!) <= 1e-5, `${name} merged`);
    else assert.ok(readTensorBytes(got).every((b, i) => b === readTensorBytes(info)[i]), `${name} changed`);
  }
});

for (const name of ["loha-llama", "lokr-llama", "lokr-both-llama", "ia3-llama", "ia3-gpt2"]) {
  test(`peftc merge of PEFT's ${name} writes PEFT's merged weights`, () => {
    const kind = name.endsWith("gpt2") ? "gpt2" : "llama";
    const out = join(dir, name);
    const run = peftc(["merge", "--model", tinyModel(kind), "--adapter", join(golden, name), "-o", out]);
    assert.is(run.status, 0, run.stderr);
    const after = openCheckpoint(out);
    const want = expectedMerged(name);
    assert.ok(want.size > 0);
    // GPT-2's fixture is F16: one rounding of the merged value.
    const tolerance = kind === "gpt2" ? 1e-3 : 1e-5;
    for (const [tensor, values] of want) assert.ok(relativeError(readFloat32(after, tensor), values) <= tolerance, `${tensor}: ${relativeError(readFloat32(after, tensor), values)}`);
  });
}

test("a BF16 base stays BF16, rounded from the float32 merge", () => {
  const out = join(dir, "bf16");
  const run = peftc(["merge", "--model", tinyModel("qwen2"), "--adapter", join(golden, "lora-regex-qwen2"), "-o", out, "--json"]);
  assert.is(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  const want = expectedMerged("lora-regex-qwen2");
  assert.equal([...report.merged_tensors].filter((t: string) => t.endsWith(".weight")).sort(), [...want.keys()].sort());
  const after = openCheckpoint(out);
  for (const [name, values] of want) {
    assert.is(after.tensors.get(name)!.dtype, "BF16");
    // One BF16 rounding: 2⁻⁹ relative per element.
    assert.ok(relativeError(readFloat32(after, name), values) <= 4e-3, name);
  }
});

test("the merged model's eval loss is the base+adapter eval loss", () => {
  const data = join(dir, "eval.jsonl");
  writeJsonl(data, colourPairs(8, 5));
  const base = tinyModel("llama");
  const out = join(dir, "eval-merged");
  assert.is(peftc(["merge", "--model", base, "--adapter", join(golden, "lora-dora-rslora-patterns-llama"), "-o", out]).status, 0);
  const merged = peftc(["eval", "--model", out, "--data", data, "--json"]);
  const adapted = peftc(["eval", "--model", base, "--adapter", join(golden, "lora-dora-rslora-patterns-llama"), "--data", data, "--json"]);
  const plain = peftc(["eval", "--model", base, "--data", data, "--json"]);
  assert.is(merged.status, 0, merged.stderr);
  const [m, a, p] = [merged, adapted, plain].map((r) => JSON.parse(r.stdout).loss as number);
  assert.ok(Math.abs(m! - a!) <= 1e-4 * a!, `merged ${m} vs adapter ${a}`);
  assert.ok(Math.abs(a! - p!) > 1e-3, "the adapter changes nothing: the comparison proves nothing");
});

test("a directory of bare safetensors (no config.json) merges per tensor, to the same values", () => {
  const base = tinyModel("gpt2");
  const bare = join(dir, "bare");
  mkdirSync(bare, { recursive: true });
  copyFileSync(join(base, "model.safetensors"), join(bare, "model.safetensors"));
  const withConfig = join(dir, "gpt2-merged");
  const without = join(dir, "bare-merged");
  assert.is(peftc(["merge", "--model", base, "--adapter", join(golden, "lora-gpt2"), "-o", withConfig]).status, 0);
  const run = peftc(["merge", "--model", bare, "--adapter", join(golden, "lora-gpt2"), "-o", without]);
  assert.is(run.status, 0, run.stderr);
  assert.equal(readdirSync(without).filter((f) => f !== OUTPUT_MARKER), ["model.safetensors"]);
  assert.ok(readFileSync(join(without, "model.safetensors")).equals(readFileSync(join(withConfig, "model.safetensors"))));
});

test("NaN in an adapter stops the merge naming the tensor and module, and writes nothing", () => {
  const bad = join(dir, "nan-adapter");
  cpSync(join(golden, "lora-llama"), bad, { recursive: true });
  const file = SafetensorsFile.open(join(bad, "adapter_model.safetensors"));
  const tensors = [...file.tensors].map(([name, info]) => {
    const data = toFloat32(readTensorBytes(info), info.dtype);
    if (name.includes("layers.2.self_attn.v_proj.lora_B")) data[3] = Number.NaN;
    return { name, dtype: "F32" as const, shape: info.shape, data: new Uint8Array(data.buffer) };
  });
  writeSafetensors(join(bad, "adapter_model.safetensors"), tensors);
  const out = join(dir, "nan-out");
  const run = peftc(["merge", "--model", tinyModel("llama"), "--adapter", bad, "-o", out]);
  assert.is(run.status, 1);
  assert.match(run.stderr, "model.layers.2.self_attn.v_proj");
  assert.match(run.stderr, "nothing was written");
  assert.ok(!hasStackTrace(run.stderr), run.stderr);
  assert.ok(!existsSync(out));
  assert.ok(readdirSync(dir).every((n) => !n.startsWith(".nan-out")), "a temporary directory was left behind");
});

test("bad merges are clear errors: an adapter for another model, weights that do not pair, the base as output", () => {
  const llama = tinyModel("llama");
  const other = peftc(["merge", "--model", llama, "--adapter", join(golden, "lora-gpt2"), "-o", join(dir, "x")]);
  assert.is(other.status, 1);
  assert.ok(!hasStackTrace(other.stderr), other.stderr);
  const pairs = peftc(["merge", "--model", llama, "--adapter", join(golden, "lora-llama"), "--weight", "1", "--weight", "2", "-o", join(dir, "y")]);
  assert.is(pairs.status, 1);
  assert.match(pairs.stderr, "one weight per adapter");
  const self = peftc(["merge", "--model", llama, "--adapter", join(golden, "lora-llama"), "-o", llama]);
  assert.is(self.status, 1);
  assert.match(self.stderr, "is the base model");
});

test.run();
