// peftc inspect and peftc diff on the fixture models, for an example of every method.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isPlan } from "../../compiler/resolve/plan-schema.js";
import { resolveSpec } from "../../compiler/resolve/resolve-spec.js";
import { analyzeSpec } from "../../compiler/spec/analyze.js";
import { encodeSafetensors, fromFloat32 } from "../../runtime/files/safetensors.js";
import { hasStackTrace, peftc } from "../helpers/cli.js";
import { fileSignature } from "../../runtime/files/outputs.js";
import { scratchDir, tinyModel } from "../helpers/fixtures.js";
import { repoRoot } from "../helpers/paths.js";

const examples = join(repoRoot, "specs", "examples");
const files = readdirSync(examples).filter((f) => f.endsWith(".peft")).sort();

function modelFor(file: string): string {
  const ir = analyzeSpec({ path: file, text: readFileSync(join(examples, file), "utf8") }).ir!;
  return tinyModel(ir.model?.family === "gpt2" ? "gpt2" : "llama");
}

test("every example resolves to a valid, deterministic plan on the fixture models", () => {
  for (const file of files) {
    const spec = analyzeSpec({ path: join(examples, file), text: readFileSync(join(examples, file), "utf8") });
    const first = resolveSpec(spec, { modelDir: modelFor(file) });
    assert.ok(first.plan, `${file}: ${first.diagnostics.map((d) => d.message).join("\n")}`);
    assert.ok(isPlan(first.plan!), file);
    assert.ok(first.plan!.adapters.every((a) => a.trainable > 0), file);
    assert.is(JSON.stringify(resolveSpec(spec, { modelDir: modelFor(file) }).plan), JSON.stringify(first.plan), `${file}: not deterministic`);
  }
});

test("inspect --json prints the plan", () => {
  const result = peftc(["inspect", join(examples, "vera.peft"), "--model", tinyModel("llama"), "--json"]);
  assert.is(result.status, 0, result.stderr);
  const plan = JSON.parse(result.stdout);
  assert.ok(isPlan(plan));
  assert.equal(plan.adapters[0]!.tensors.map((t: { key: string }) => t.key), ["base_model.vera_A", "base_model.vera_B"]);
});

test("inspect prints the module table, PEFT's line and the memory estimate", () => {
  const result = peftc(["inspect", join(examples, "lora.peft"), "--model", tinyModel("llama"), "--batch", "4", "--seq-len", "32"]);
  assert.is(result.status, 0, result.stderr);
  assert.match(result.stdout, /model\.layers\.2\.mlp\.up_proj\s+lora\s+r=16 s=2\s+lora_A 16×64, lora_B 176×16\s+3,840/);
  assert.match(result.stdout, "trainable params: 36,352 || all params: 264,000 || trainable%: 13.7697");
  assert.match(result.stdout, "training memory estimate, batch 4 × 32 tokens");
  for (const part of ["frozen weights", "adapter parameters", "gradients", "AdamW states", "activations (4 of 4 blocks)", "total"]) assert.match(result.stdout, part);
});

test("inspect --explain lists the rules and where each setting came from", () => {
  const result = peftc(["inspect", join(examples, "lora.peft"), "--model", tinyModel("llama"), "--explain", "layers.2.mlp.up_proj"]);
  assert.is(result.status, 0, result.stderr);
  assert.match(result.stdout, "model.layers.2.mlp.up_proj: linear 64 → 176, block 2");
  assert.match(result.stdout, 'rule 2 (line 12): target "layers.[2..3].mlp.{gate,up,down}_proj" { r = 16  alpha = 32 }');
  assert.match(result.stdout, /r\s+16\s+rule 2 \(line 12\)/);
  assert.match(result.stdout, /dropout\s+0\.05\s+adapter \(line 10\)/);
  assert.match(result.stdout, /use_rslora\s+false\s+default/);
  const excluded = peftc(["inspect", join(examples, "lora.peft"), "--model", tinyModel("llama"), "--explain", "model.layers.0.self_attn.o_proj"]);
  assert.match(excluded.stdout, "does not adapt it");
  assert.match(excluded.stdout, 'rule 3 (line 13): exclude "layers.0.self_attn.o_proj"');
  const missing = peftc(["inspect", join(examples, "lora.peft"), "--model", tinyModel("llama"), "--explain", "q_prj"]);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, "no module 'q_prj' in this model");
});

test("inspect --svg writes a heatmap", () => {
  const svg = join(scratchDir("svg"), "heat.svg");
  const result = peftc(["inspect", join(examples, "lora.peft"), "--model", tinyModel("llama"), "--svg", svg]);
  assert.is(result.status, 0, result.stderr);
  const text = readFileSync(svg, "utf8");
  assert.ok(text.startsWith(`${fileSignature("svg")}\n<svg`));
  assert.match(text, "<title>model.layers.3.mlp.down_proj: 3,840</title>");
  assert.match(text, "self_attn.q_proj");
});

test("selectors that match nothing, partial blocks, unsupported kinds: located diagnostics", () => {
  const dir = scratchDir("resolve");
  const spec = join(dir, "s.peft");
  writeFileSync(spec, [
    "peft 1",
    "adapter a: lora {",
    '  target "q_prj"',
    '  target "model.layers.1.self_attn.v_proj", "model.layers.2.self_attn.v_proj"',
    "}",
    "adapter b: oft { target \"embed_tokens\" }",
    "",
  ].join("\n"));
  const result = peftc(["inspect", spec, "--model", tinyModel("llama")]);
  assert.is(result.status, 1);
  assert.match(result.stderr, `${spec}:3:10: error: "q_prj" matches no module of this llama model`);
  assert.match(result.stderr, "closest module paths: model.layers.*.self_attn.q_proj");
  assert.match(result.stderr, `${spec}:6:18: error: oft cannot adapt model.embed_tokens, an embedding layer (it adapts linear layers)`);
  assert.ok(!hasStackTrace(result.stderr), result.stderr);
  writeFileSync(spec, 'peft 1\nadapter a: lora {\n  target "self_attn.v_proj"\n  target "layers.[1..2].mlp.up_proj"\n  target "mlp.down_proj"\n  exclude "layers.3.mlp.down_proj"\n}\n');
  const warned = peftc(["inspect", spec, "--model", tinyModel("llama")]);
  assert.is(warned.status, 0, warned.stderr);
  // Explicit layer numbers mean a partial choice is intended; an exclusion afterwards is not a partial rule.
  assert.not.match(warned.stderr, "warning");
  writeFileSync(spec, 'peft 1\nadapter a: lora {\n  target /model\\.layers\\.(?!0).*q_proj/\n}\n');
  const partial = peftc(["inspect", spec, "--model", tinyModel("llama")]);
  assert.match(partial.stderr, `${spec}:3:3: warning: this rule adapts self_attn.q_proj in 3 of 4 layers (not in layer 0)`);
});

test("diff: specs against each other, exit codes, JSON", () => {
  const dir = scratchDir("diff");
  const a = join(dir, "a.peft");
  const b = join(dir, "b.peft");
  writeFileSync(a, 'peft 1\nadapter chat: lora {\n  r = 8\n  target "q_proj", "v_proj"\n}\n');
  writeFileSync(b, 'peft 1\nadapter chat: lora {\n  r = 8\n  target "q_proj", "v_proj", "o_proj"\n  override "layers.0.self_attn.q_proj" { r = 4 }\n  exclude "layers.3.self_attn.v_proj"\n}\n');
  const model = tinyModel("llama");
  const text = peftc(["diff", a, b, "--model", model]);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, "~ adapter chat");
  assert.match(text.stdout, "+ model.layers.0.self_attn.o_proj (+1,024)");
  assert.match(text.stdout, "- model.layers.3.self_attn.v_proj (-768)");
  assert.match(text.stdout, "~ model.layers.0.self_attn.q_proj: r 8 → 4 (-512)");
  assert.match(text.stdout, "trainable params: 7,168 → 9,984 (+2,816)");
  assert.is(peftc(["diff", a, b, "--model", model, "--exit-code"]).status, 1);
  assert.is(peftc(["diff", a, a, "--model", model, "--exit-code"]).status, 0);
  const json = JSON.parse(peftc(["diff", a, b, "--model", model, "--json"]).stdout);
  assert.is(json.different, true);
  assert.equal(json.adapters[0].modules.added, [0, 1, 2, 3].map((l) => ({ path: `model.layers.${l}.self_attn.o_proj`, trainable: 1024 })));
  // Without a model, only the settings are compared.
  writeFileSync(b, 'peft 1\nadapter chat: lora {\n  r = 16\n  target "q_proj", "v_proj"\n}\n');
  assert.match(peftc(["diff", a, b]).stdout, "r: 8 → 16");
});

test("diff: a spec against PEFT adapter directories, read by config or by their weights", () => {
  const dir = scratchDir("diff-peft");
  const spec = join(dir, "s.peft");
  writeFileSync(spec, 'peft 1\nadapter chat: lora {\n  r = 4\n  alpha = 8\n  target "q_proj"\n}\n');
  const config = peftc(["compile", spec, "--emit", "peft-config"]).stdout;
  const adapterDir = (name: string, layers: number[]) => {
    const path = join(dir, name);
    mkdirSync(path);
    writeFileSync(join(path, "adapter_config.json"), config);
    const ones = fromFloat32(new Float32Array(256).fill(0.1), "F32");
    writeFileSync(join(path, "adapter_model.safetensors"), encodeSafetensors(layers.flatMap((l) => [
      { name: `base_model.model.model.layers.${l}.self_attn.q_proj.lora_A.weight`, dtype: "F32" as const, shape: [4, 64], data: ones },
      { name: `base_model.model.model.layers.${l}.self_attn.q_proj.lora_B.weight`, dtype: "F32" as const, shape: [64, 4], data: ones },
    ])));
    return path;
  };
  const all = adapterDir("all", [0, 1, 2, 3]);
  const some = adapterDir("some", [0, 1, 2]);
  // With a model, an adapter directory is read through its config, as PEFT would load it.
  const byConfig = peftc(["diff", spec, all, "--model", tinyModel("llama")]);
  assert.is(byConfig.status, 0, byConfig.stderr);
  assert.match(byConfig.stdout, "no differences");
  // Without one, its modules are read off the saved weights.
  const byWeights = peftc(["diff", all, some]);
  assert.match(byWeights.stdout, "- model.layers.3.self_attn.q_proj (-512)");
  assert.match(byWeights.stdout, "trainable params: 2,048 → 1,536 (-512)");
  // A spec without a model knows no modules: only the settings are compared.
  assert.is(JSON.parse(peftc(["diff", spec, some, "--json"]).stdout).different, false);
  const bad = peftc(["diff", spec, join(dir, "nothing")]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, "no such file or directory");
});

test.run();
