// Model directories read into module trees: names, kinds, shapes and counts
// as Hugging Face has them; every bad directory a clear error.
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModel } from "../../compiler/models/load.js";
import { ModelError } from "../../compiler/models/types.js";
import { encodeSafetensors, fromFloat32 } from "../../runtime/files/safetensors.js";
import { hasStackTrace, peftc } from "../helpers/cli.js";
import { scratchDir, tinyModel } from "../helpers/fixtures.js";

test("llama with GQA: module names, kinds and shapes", () => {
  const { tree } = loadModel(tinyModel("llama"));
  assert.is(tree.family, "llama");
  assert.is(tree.dtype, "F32");
  const q = tree.modules.find((m) => m.path === "model.layers.0.self_attn.q_proj")!;
  const k = tree.modules.find((m) => m.path === "model.layers.0.self_attn.k_proj")!;
  assert.equal([q.kind, q.inFeatures, q.outFeatures, q.layer, q.role], ["linear", 64, 64, 0, "self_attn.q_proj"]);
  // 2 key/value heads of 16: k is narrower than q.
  assert.equal([k.inFeatures, k.outFeatures], [64, 32]);
  assert.is(tree.config.kvHeads, 2);
  assert.is(tree.modules.find((m) => m.path === "lm_head")!.outputEmbedding, true);
  assert.is(tree.modules.find((m) => m.path === "model.layers.3.post_attention_layernorm")!.kind, "norm");
  // embed 334·64, 4 blocks of (2 norms·64 + q 64·64 + k,v 2·32·64 + o 64·64 + 3·64·176), final norm, lm_head.
  assert.is(tree.parameterCount, 334 * 64 + 4 * (128 + 4096 + 4096 + 4096 + 3 * 64 * 176) + 64 + 334 * 64);
});

test("Qwen2: q/k/v biases, tied embeddings, BF16", () => {
  const { tree } = loadModel(tinyModel("qwen2"));
  assert.is(tree.dtype, "BF16");
  const q = tree.modules.find((m) => m.path === "model.layers.1.self_attn.q_proj")!;
  const o = tree.modules.find((m) => m.path === "model.layers.1.self_attn.o_proj")!;
  assert.equal(q.bias?.shape, [48]);
  assert.is(o.bias, undefined);
  const head = tree.modules.find((m) => m.path === "lm_head")!;
  assert.is(head.tiedTo, "model.embed_tokens");
  assert.is(head.weight.name, "model.embed_tokens.weight");
  // The tied weight counts once.
  const h = 48, kv = 16, inter = 120, vocab = 332;
  assert.is(tree.parameterCount, vocab * h + 3 * (2 * h + h * h + h + 2 * (h * kv + kv) + h * h + 3 * h * inter) + h);
});

test("GPT-2: Conv1D stored (in, out), fused c_attn, learned positions, tied head, F16", () => {
  const { tree } = loadModel(tinyModel("gpt2"));
  assert.is(tree.dtype, "F16");
  const attn = tree.modules.find((m) => m.path === "transformer.h.0.attn.c_attn")!;
  assert.equal([attn.kind, attn.inFeatures, attn.outFeatures], ["conv1d", 64, 192]);
  assert.equal(attn.weight.shape, [64, 192]);
  assert.ok(tree.modules.some((m) => m.path === "transformer.wpe" && m.kind === "embedding"));
  assert.is(tree.modules.find((m) => m.path === "lm_head")!.tiedTo, "transformer.wte");
});

test("a sharded checkpoint reads the same as one file", () => {
  const one = loadModel(tinyModel("llama")).tree;
  const sharded = loadModel(tinyModel("llama", { shards: 3 })).tree;
  assert.equal(sharded.modules.map((m) => m.path), one.modules.map((m) => m.path));
  assert.is(sharded.parameterCount, one.parameterCount);
});

test("GPT-2 checkpoints without the transformer. prefix map to the same modules", () => {
  const dir = scratchDir("gpt2-bare");
  const source = tinyModel("gpt2");
  for (const f of readdirSync(source)) if (f !== "model.safetensors") copyFileSync(join(source, f), join(dir, f));
  const header = loadModel(source).checkpoint;
  const tensors = [...header.tensors.values()].map((t) => ({
    name: t.name.replace(/^transformer\./, ""),
    dtype: "F32" as const,
    shape: t.shape,
    data: fromFloat32(new Float32Array(t.shape.reduce((a, b) => a * b, 1)).fill(0.5), "F32"),
  }));
  writeFileSync(join(dir, "model.safetensors"), encodeSafetensors(tensors));
  const { tree } = loadModel(dir);
  assert.ok(tree.modules.some((m) => m.path === "transformer.h.1.mlp.c_fc" && m.weight.name === "h.1.mlp.c_fc.weight"));
});

function brokenCopy(kind: "llama" | "gpt2", edit: (dir: string) => void): string {
  const dir = scratchDir("broken");
  const source = tinyModel(kind);
  for (const f of readdirSync(source)) copyFileSync(join(source, f), join(dir, f));
  edit(dir);
  return dir;
}

const bad: [string, () => string, RegExp][] = [
  ["missing directory", () => "/nonexistent/model", /model directory \/nonexistent\/model does not exist/],
  ["no config.json", () => brokenCopy("llama", (d) => rmSync(join(d, "config.json"))), /has no config\.json: it is not a Hugging Face model directory/],
  ["config.json not JSON", () => brokenCopy("llama", (d) => writeFileSync(join(d, "config.json"), "{")), /config\.json: not valid JSON/],
  ["unsupported model_type", () => brokenCopy("llama", (d) => editConfig(d, { model_type: "bert" })), /model_type 'bert' is not supported \(supported: llama, mistral, qwen2, gpt2\)/],
  ["a missing config field", () => brokenCopy("llama", (d) => editConfig(d, { hidden_size: undefined })), /'hidden_size' is missing/],
  ["no weights", () => brokenCopy("llama", (d) => rmSync(join(d, "model.safetensors"))), /no model\.safetensors or model\.safetensors\.index\.json/],
  ["a tensor of the wrong shape", () => brokenCopy("llama", (d) => editConfig(d, { intermediate_size: 100 })), /'model\.layers\.0\.mlp\.gate_proj\.weight' has shape \[176, 64\] but config\.json implies \[100, 64\]/],
  ["a missing tensor", () => brokenCopy("llama", (d) => editConfig(d, { num_hidden_layers: 5 })), /'model\.layers\.4\.input_layernorm\.weight' is missing/],
  ["a corrupt safetensors file", () => brokenCopy("gpt2", (d) => writeFileSync(join(d, "model.safetensors"), Buffer.from([9, 0, 0, 0, 0, 0, 0, 0, 123]))), /model\.safetensors: header length 9 runs past the end/],
];

function editConfig(dir: string, changes: Record<string, unknown>): void {
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, ...changes }));
}

for (const [name, make, message] of bad) {
  test(`bad model directory: ${name}`, () => {
    const dir = make();
    assert.throws(() => loadModel(dir), (e: Error) => e instanceof ModelError && message.test(e.message));
  });
}

test("the command line reports a bad model directory with exit 1 and no stack trace", () => {
  const spec = join(scratchDir("spec"), "s.peft");
  mkdirSync(join(spec, ".."), { recursive: true });
  writeFileSync(spec, 'peft 1\nmodel llama { path = "nowhere" }\nadapter a: lora { target "q_proj" }\n');
  const located = peftc(["inspect", spec]);
  assert.is(located.status, 1);
  assert.match(located.stderr, `${spec}:2:22: error: model directory`);
  assert.ok(!hasStackTrace(located.stderr), located.stderr);
  const broken = brokenCopy("llama", (d) => editConfig(d, { model_type: "t5" }));
  const flagged = peftc(["inspect", spec, "--model", broken]);
  assert.is(flagged.status, 1);
  assert.match(flagged.stderr, "model_type 't5' is not supported");
  assert.ok(!hasStackTrace(flagged.stderr), flagged.stderr);
  const wrongFamily = peftc(["inspect", spec, "--model", tinyModel("gpt2")]);
  assert.is(wrongFamily.status, 1);
  assert.match(wrongFamily.stderr, "the spec says 'model llama' but");
});

test.run();
