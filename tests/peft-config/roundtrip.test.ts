// `peftc import` then `compile --emit peft-config` gives back the PEFT config,
// byte for byte, for every method PEFT and peftc share.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { allMethods } from "../../compiler/methods/registry.js";
import { peftConfigText } from "../../compiler/peft-config/emit.js";
import { importPeftConfig } from "../../compiler/peft-config/import.js";
import { pythonJson } from "../../compiler/peft-config/json.js";
import { analyzeSpec } from "../../compiler/spec/analyze.js";
import { peftc } from "../helpers/cli.js";

function defaultsOf(peftType: string): { fields: Record<string, unknown>; floats: Set<string> } {
  const method = allMethods().find((m) => m.peft?.peftType === peftType);
  if (!method?.peft) throw new Error(`no method for ${peftType}`);
  return { fields: structuredClone(method.peft.defaults), floats: new Set(method.peft.floatFields ?? []) };
}

/** A config file as PEFT writes it: the method's defaults with these fields changed. */
function peftFile(peftType: string, changes: Record<string, unknown>): string {
  const { fields, floats } = defaultsOf(peftType);
  return pythonJson({ ...fields, inference_mode: true, task_type: "CAUSAL_LM", base_model_name_or_path: "org/base-model", ...changes }, floats);
}

const cases: [string, string, Record<string, unknown>][] = [
  ["lora: list targets, patterns, layers", "LORA", {
    r: 16, lora_alpha: 32, lora_dropout: 0.05, use_rslora: true, target_modules: ["q_proj", "v_proj", "o_proj"],
    rank_pattern: { "model.layers.0.self_attn.q_proj": 4, "^model\\.layers\\.1\\..*": 2 }, alpha_pattern: { v_proj: 64 },
    layers_to_transform: [0, 1, 2, 3, 7], layers_pattern: "layers", exclude_modules: ["model.layers.2.self_attn.o_proj"],
  }],
  ["lora: regex targets, DoRA, gaussian init, no task type", "LORA", {
    target_modules: "model\\.layers\\.\\d+\\.self_attn\\.(q|k|v)_proj", use_dora: true, init_lora_weights: "gaussian",
    modules_to_save: ["lm_head"], task_type: null, inference_mode: false, exclude_modules: ".*layers\\.0\\..*", bias: "lora_only",
  }],
  ["lora: all-linear, pissa, gpt2 conv1d", "LORA", { target_modules: "all-linear", init_lora_weights: "pissa", fan_in_fan_out: true, r: 4, lora_alpha: 8 }],
  ["loha", "LOHA", { r: 4, alpha: 8, rank_dropout: 0.1, module_dropout: 0.05, target_modules: ["up_proj", "down_proj"], rank_pattern: { down_proj: 2 } }],
  ["lokr", "LOKR", { r: 4, alpha: 4, decompose_both: true, decompose_factor: 4, target_modules: ["q_proj", "v_proj"], init_weights: "lycoris" }],
  ["oft: blocks of 16", "OFT", { oft_block_size: 16, coft: true, eps: 1e-4, target_modules: ["mlp.up_proj"], module_dropout: 0.1 }],
  ["oft: r blocks", "OFT", { r: 8, oft_block_size: 0, use_cayley_neumann: false, block_share: true, target_modules: ["q_proj"] }],
  ["boft", "BOFT", { boft_block_size: 0, boft_block_num: 8, boft_n_butterfly_factor: 2, boft_dropout: 0.1, target_modules: ["q_proj", "v_proj"], bias: "boft_only" }],
  ["adalora", "ADALORA", { init_r: 12, target_r: 4, tinit: 200, tfinal: 500, deltaT: 10, total_step: 5000, lora_alpha: 32, beta1: 0.8, target_modules: ["q_proj", "v_proj"] }],
  ["ia3", "IA3", { target_modules: ["k_proj", "v_proj", "down_proj"], feedforward_modules: ["down_proj"] }],
  ["ia3: regex", "IA3", { target_modules: ".*\\.(k_proj|v_proj|down_proj)", feedforward_modules: ".*\\.down_proj", init_ia3_weights: false }],
  ["vera", "VERA", { r: 128, projection_prng_key: 7, vera_dropout: 0.1, d_initial: 0.2, target_modules: ["q_proj", "v_proj"], save_projection: false }],
  ["prompt_tuning: text", "PROMPT_TUNING", {
    num_virtual_tokens: 20, prompt_tuning_init: "TEXT", prompt_tuning_init_text: "Classify the sentiment:", tokenizer_name_or_path: "org/base-model",
    token_dim: 3072, num_transformer_submodules: 1, num_attention_heads: 24, num_layers: 28,
  }],
  ["prompt_tuning: sample vocab", "PROMPT_TUNING", { num_virtual_tokens: 8, prompt_tuning_init: "SAMPLE_VOCAB" }],
  ["prefix_tuning", "PREFIX_TUNING", { num_virtual_tokens: 30, prefix_projection: true, encoder_hidden_size: 1024, init_weights: "zero", token_dim: 1024 }],
  ["p_tuning", "P_TUNING", { num_virtual_tokens: 16, encoder_reparameterization_type: "LSTM", encoder_hidden_size: 256, encoder_num_layers: 3, encoder_dropout: 0.1 }],
  ["adaption_prompt", "ADAPTION_PROMPT", { adapter_len: 10, adapter_layers: 28, target_modules: "self_attn" }],
  ["ln_tuning", "LN_TUNING", { target_modules: ["input_layernorm", "post_attention_layernorm"] }],
];

for (const [name, peftType, changes] of cases) {
  test(`import then emit gives back the file: ${name}`, () => {
    const original = peftFile(peftType, changes);
    const imported = importPeftConfig(original, "adapter_config.json");
    assert.equal(imported.warnings, []);
    const analyzed = analyzeSpec({ path: "imported.peft", text: imported.spec });
    assert.ok(analyzed.ir, `imported spec is invalid:\n${imported.spec}\n${analyzed.diagnostics.map((d) => d.message).join("\n")}`);
    assert.fixture(peftConfigText(analyzed.ir!, analyzed.ir!.adapters[0]!), original);
  });
}

test("every PEFT config peftc writes names a method PEFT has", () => {
  const types = allMethods().flatMap((m) => (m.peft ? [m.peft.peftType] : []));
  assert.equal(new Set(types).size, types.length);
  for (const type of ["LORA", "LOHA", "LOKR", "OFT", "BOFT", "ADALORA", "IA3", "VERA", "PROMPT_TUNING", "PREFIX_TUNING", "P_TUNING", "ADAPTION_PROMPT"]) {
    assert.ok(types.includes(type), `${type} is not read`);
  }
});

test("fields peftc does not model are reported and ignored; the rest round-trips", () => {
  // An OFT config from before PEFT 0.15 carried rank and alpha patterns.
  const old = JSON.stringify({ peft_type: "OFT", r: 8, oft_block_size: 0, target_modules: ["q_proj"], rank_pattern: { q_proj: 4 }, weird: 1 }, null, 4);
  const imported = importPeftConfig(old, "old.json");
  assert.ok(imported.warnings.some((w) => w.includes("unknown field 'rank_pattern'")), imported.warnings.join("\n"));
  assert.ok(imported.warnings.some((w) => w.includes("unknown field 'weird'")));
  const ir = analyzeSpec({ path: "x.peft", text: imported.spec }).ir!;
  const emitted = JSON.parse(peftConfigText(ir, ir.adapters[0]!));
  assert.is(emitted.r, 8);
  assert.is(emitted.oft_block_size, 0);
  assert.equal(emitted.target_modules, ["q_proj"]);
});

test("layers_to_transform beside a regex target_modules is ignored, as PEFT ignores it, with a warning", () => {
  const config = JSON.stringify({ peft_type: "LORA", r: 4, target_modules: ".*\\.q_proj", layers_to_transform: [1] }, null, 4);
  const imported = importPeftConfig(config, "regex.json");
  assert.ok(imported.warnings.some((w) => w.includes("layers_to_transform was ignored")), imported.warnings.join("\n"));
  const ir = analyzeSpec({ path: "x.peft", text: imported.spec }).ir!;
  assert.equal(ir.adapters[0]!.hyperparameters.layers, []);
  const emitted = JSON.parse(peftConfigText(ir, ir.adapters[0]!));
  assert.is(emitted.layers_to_transform, null);
});

test("peftc import and compile --emit peft-config on the command line", () => {
  const dir = mkdtempSync(join(tmpdir(), "peftc-import-"));
  const config = join(dir, "adapter_config.json");
  const original = peftFile("LORA", { r: 4, target_modules: ["q_proj", "v_proj"] });
  writeFileSync(config, original);
  const spec = join(dir, "imported.peft");
  const imported = peftc(["import", dir, "-o", spec]);
  assert.is(imported.status, 0, imported.stderr);
  const emitted = peftc(["compile", spec, "--emit", "peft-config"]);
  assert.is(emitted.status, 0, emitted.stderr);
  assert.fixture(emitted.stdout, original + "\n");
  const bad = join(dir, "bad.json");
  writeFileSync(bad, "{ not json");
  const failed = peftc(["import", bad]);
  assert.is(failed.status, 1);
  assert.match(failed.stderr, "is not valid JSON");
  writeFileSync(bad, JSON.stringify({ peft_type: "XLORA" }));
  assert.match(peftc(["import", bad]).stderr, "peft_type \"XLORA\" is not one peftc reads");
});

test.run();
