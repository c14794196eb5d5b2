// peftc generate as a user runs it: text with and without an adapter, several
// adapters over one base switched between prompts (each prompt's tokens are
// those transformers + PEFT generate, golden), --json, seeded sampling, the
// model's eos, and bad input that exits 1 with a message and no stack trace.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { hasStackTrace, peftc } from "../helpers/cli.js";
import { scratchDir, tinyModel } from "../helpers/fixtures.js";
import { repoRoot } from "../helpers/paths.js";
import { goldenAdapters } from "./helpers.js";
import { generateCommand } from "../../bin/commands/generate.js";

interface Result {
  prompt: string;
  adapter: string | null;
  prompt_tokens: number;
  tokens: number[];
  text: string;
  finish_reason: "eos" | "length";
}

const model = tinyModel("llama");
const golden = (JSON.parse(readFileSync(join(repoRoot, "tests", "golden", "generate.json"), "utf8")) as { cases: { model: string; prompt: string; base: number[]; adapted: number[] }[] }).cases.find((c) => c.model === "llama")!;
const loraA = join(goldenAdapters, "lora-llama");
const loraB = join(goldenAdapters, "lora-layers-llama");

function generate(args: string[]): { results: Result[]; tokens_per_s: number } {
  const r = peftc(["generate", "--model", model, ...args, "--json"]);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("text without an adapter: the prompt and its continuation on stdout", () => {
  const r = peftc(["generate", "--model", model, "--prompt", golden.prompt, "--max-tokens", "4"]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith(golden.prompt), r.stdout);
  assert.ok(r.stdout.trimEnd().length > golden.prompt.length, "something was generated");
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
});

test("adapters switched between prompts over one base: each prompt gets transformers + PEFT's tokens", () => {
  const out = generate([
    "--adapter", `a=${loraA}`, "--adapter", `b=${loraB}`, "--max-tokens", "12",
    "--prompt", golden.prompt, "--use", "a",
    "--prompt", golden.prompt, "--use", "none",
    "--prompt", golden.prompt, "--use", "b",
  ]);
  const [a, none, b] = out.results;
  assert.equal([a!.adapter, none!.adapter, b!.adapter], ["a", null, "b"]);
  // transformers generated all 12 (no end token) for both: so must peftc.
  assert.equal(a!.tokens, golden.adapted);
  assert.is(a!.finish_reason, "length");
  assert.equal(none!.tokens, golden.base);
  assert.not.equal(b!.tokens, none!.tokens, "adapter b changes the text");
  // One adapter for a lone prompt (the plain graph, not the mixed one) agrees too.
  assert.equal(generate(["--adapter", loraA, "--max-tokens", "12", "--prompt", golden.prompt]).results[0]!.tokens, a!.tokens);
  assert.ok(out.tokens_per_s > 0);
});

test("sampling: the same seed gives the same text, other seeds other text", () => {
  const run = (seed: number) => generate(["--prompt", golden.prompt, "--temperature", "1.2", "--top-p", "0.95", "--seed", String(seed), "--max-tokens", "16"]).results[0]!.tokens;
  const first = run(1);
  assert.equal(run(1), first);
  assert.ok(run(2).join() !== first.join() || run(3).join() !== first.join(), "three seeds, one text");
});

test("generation stops at the model's eos (generation_config.json)", () => {
  const dir = join(scratchDir("generate"), "model");
  cpSync(model, dir, { recursive: true });
  const first = golden.base[0]!;
  writeFileSync(join(dir, "generation_config.json"), JSON.stringify({ bos_token_id: 1, eos_token_id: [2, first] }));
  const r = peftc(["generate", "--model", dir, "--prompt", golden.prompt, "--json"]);
  assert.is(r.status, 0, r.stderr);
  const [result] = (JSON.parse(r.stdout) as { results: Result[] }).results;
  assert.equal(result!.tokens, [first]);
  assert.is(result!.finish_reason, "eos");
});

test("bad input exits 1 with a clear message and no stack trace; a bad command line exits 2", () => {
  const cases: [string[], RegExp][] = [
    [["--model", join(repoRoot, "no-such-model"), "--prompt", "x"], /does not exist/],
    [["--model", model, "--adapter", join(repoRoot, "specs"), "--prompt", "x"], /adapter/],
    [["--model", model, "--adapter", `a=${loraA}`, "--prompt", "x", "--use", "b"], /no adapter is named 'b'/],
    [["--model", tinyModel("gpt2"), "--prompt", "word ".repeat(200)], /positions/],
    [["--model", model, "--prompt", "x", "--prompt", "y", "--use", "none", "--use", "none", "--use", "none"], /one --use per prompt/],
  ];
  for (const [args, message] of cases) {
    const r = peftc(["generate", ...args]);
    assert.is(r.status, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.not.ok(hasStackTrace(r.stderr), r.stderr);
  }
  assert.is(peftc(["generate", "--model", model]).status, 2, "no --prompt");
  assert.is(peftc(["generate", "--model", model, "--prompt", "x", "--max-tokens", "many"]).status, 2);
});

test("one prompt on a terminal streams its text as it comes: the same text, in pieces", async () => {
  const pieces: string[] = [];
  const lines: string[] = [];
  const io = { out: (l: string) => void lines.push(l), err: () => {}, write: (t: string) => void pieces.push(t), isTty: true };
  const status = await generateCommand(io, { model, adapter: [loraA], prompt: [golden.prompt], maxTokens: 8 });
  assert.is(status, 0);
  const whole = generate(["--adapter", loraA, "--prompt", golden.prompt, "--max-tokens", "8"]).results[0]!;
  assert.is(pieces.join(""), `${golden.prompt}${whole.text}\n`);
  assert.ok(pieces.length > 2, `${pieces.length} writes`);
  assert.equal(lines, []);
});

test.run();
