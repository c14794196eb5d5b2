// peftc's plans against what Hugging Face PEFT itself reports and saves for
// the same adapters on the same models (tests/golden/peft-golden.json, made
// by tests/golden/make_golden.py with PEFT installed).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModel } from "../../compiler/models/load.js";
import { buildPlan } from "../../compiler/resolve/plan.js";
import { selectorMatcher, layerIndexOf } from "../../compiler/resolve/select.js";
import { peftModulesToSelectors } from "../../compiler/peft-config/selectors.js";
import { analyzeSpec } from "../../compiler/spec/analyze.js";
import type { ModuleNode } from "../../compiler/models/types.js";
import { tinyModel } from "../helpers/fixtures.js";
import { repoRoot } from "../helpers/paths.js";

interface GoldenCase {
  trainable?: number;
  all?: number;
  saved?: Record<string, number[]>;
  error?: string;
}
interface Golden {
  versions: Record<string, string>;
  cases: Record<string, GoldenCase>;
  selectors: { key: string; target_modules: string | string[]; layers_to_transform?: number[]; layers_pattern?: string; exclude_modules?: string | string[]; matches: boolean }[];
}

const dir = join(repoRoot, "tests", "golden");
const cases = (JSON.parse(readFileSync(join(dir, "cases.json"), "utf8")) as { cases: { name: string; model: "llama" | "qwen2" | "gpt2"; adapter: string }[] }).cases;
const golden = JSON.parse(readFileSync(join(dir, "peft-golden.json"), "utf8")) as Golden;

for (const c of cases) {
  test(`PEFT ${golden.versions.peft} agrees: ${c.name}`, () => {
    const expected = golden.cases[c.name];
    assert.ok(expected && !expected.error, `no golden result for ${c.name}: ${expected?.error}`);
    const spec = analyzeSpec({ path: "case.peft", text: `peft 1\n${c.adapter}\n` });
    assert.ok(spec.ir, spec.diagnostics.map((d) => d.message).join("\n"));
    const result = buildPlan(spec.ir!, loadModel(tinyModel(c.model)).tree, { spans: spec.spans });
    assert.ok(result.plan, result.diagnostics.map((d) => d.message).join("\n"));
    const adapter = result.plan!.adapters[0]!;
    assert.is(adapter.trainable, expected!.trainable, "trainable params");
    assert.is(result.plan!.model.parameters + adapter.added, expected!.all, "all params");
    const saved: Record<string, number[]> = {};
    for (const t of [...adapter.modules.flatMap((m) => m.tensors), ...adapter.tensors]) if (t.saved) saved[t.key] = t.shape;
    assert.equal(Object.fromEntries(Object.entries(saved).sort(([a], [b]) => (a < b ? -1 : 1))), expected!.saved, "saved keys and shapes");
  });
}

test(`selector semantics match PEFT ${golden.versions.peft}'s check_target_module_exists`, () => {
  for (const c of golden.selectors) {
    const module = { path: c.key, kind: "linear" } as ModuleNode;
    const targeted = peftModulesToSelectors(c.target_modules).some((s) => selectorMatcher(s)(module));
    const layers = c.layers_to_transform ?? [];
    const index = layerIndexOf(c.key, c.layers_pattern ?? null);
    // PEFT applies layers_to_transform to list targets only.
    const inLayers = layers.length === 0 || typeof c.target_modules === "string" || (index !== undefined && layers.includes(index));
    const excluded = c.exclude_modules !== undefined && peftModulesToSelectors(c.exclude_modules).some((s) => selectorMatcher(s)(module));
    assert.is(targeted && inLayers && !excluded, c.matches, JSON.stringify(c));
  }
});

test.run();
