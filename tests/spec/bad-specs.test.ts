// The corpus of bad specs: each gives its expected located error, and the
// command line reports it with exit 1 and never a stack trace.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LineIndex } from "../../grammar/diagnostics.js";
import { analyzeSpec } from "../../compiler/spec/analyze.js";
import { hasStackTrace, peftc } from "../helpers/cli.js";

interface BadSpec {
  name: string;
  text: string;
  /** line:col of the expected error and a fragment of its message. */
  expect: [string, string][];
}

const LORA = (body: string) => `peft 1\nadapter a: lora {\n${body}\n}\n`;

const corpus: BadSpec[] = [
  { name: "empty file", text: "", expect: [["1:1", "starts with the header 'peft 1'"]] },
  { name: "missing header", text: 'adapter a: lora { target "q" }\n', expect: [["1:1", "starts with the header"]] },
  { name: "unsupported version", text: "peft 2\n", expect: [["1:6", "unsupported language version 2"]] },
  { name: "syntax: missing colon", text: "peft 1\nadapter a lora { }\n", expect: [["2:11", "expected ':' but found 'lora'"]] },
  { name: "syntax: missing value", text: LORA("  r =\n  alpha = 4"), expect: [["4:9", "is a value missing on the line before?"]] },
  { name: "syntax: unclosed block", text: "peft 1\nadapter a: lora {\n  r = 4\n", expect: [["3:8", "expected '}' but found the end of the file"]] },
  { name: "syntax: stray token at top level", text: "peft 1\nr = 4\n", expect: [["2:1", "unexpected 'r'"]] },
  { name: "unterminated string", text: LORA('  target "q_proj'), expect: [["3:10", "unterminated string"]] },
  { name: "unterminated regex", text: LORA("  target /q_proj"), expect: [["3:10", "unterminated /regex/"]] },
  { name: "unknown method", text: 'peft 1\nadapter a: lroa { target "q" }\n', expect: [["2:12", "unknown method 'lroa'; did you mean 'lora'?"]] },
  { name: "unknown key", text: LORA('  rank = 4\n  target "q"'), expect: [["3:3", "unknown setting 'rank' for lora"]] },
  { name: "PEFT's name for a key", text: LORA('  lora_alpha = 4\n  target "q"'), expect: [["3:3", "unknown setting 'lora_alpha'"]] },
  { name: "out-of-range value", text: LORA('  r = 0\n  target "q"'), expect: [["3:7", "'r' must be >= 1, not 0"]] },
  { name: "out-of-range probability", text: LORA('  dropout = 1.5\n  target "q"'), expect: [["3:13", "'dropout' must be < 1"]] },
  { name: "wrong type", text: LORA('  use_dora = "yes"\n  target "q"'), expect: [["3:14", "'use_dora' must be true or false"]] },
  { name: "bad enum value", text: LORA('  init = gausian\n  target "q"'), expect: [["3:10", "'init' must be one of default, gaussian, pissa, olora"]] },
  { name: "bad glob: reversed range", text: LORA('  target "layers.[9..2].q_proj"'), expect: [["3:19", "bad glob: range 9..2 is empty"]] },
  { name: "bad glob: unclosed brace", text: LORA('  target "layers.*.{q,k_proj"'), expect: [["3:20", "'{' without a closing '}'"]] },
  { name: "bad glob: empty segment", text: LORA('  target "layers..q_proj"'), expect: [["3:18", "empty path segment"]] },
  { name: "bad regex", text: LORA("  target /(q_proj/"), expect: [["3:10", "invalid regex"]] },
  { name: "unknown selector word", text: LORA("  target q_proj"), expect: [["3:10", "unknown selector 'q_proj'"]] },
  { name: "duplicate adapter", text: 'peft 1\nadapter a: lora { target "q" }\nadapter a: loha { target "q" }\n', expect: [["3:9", "duplicate adapter 'a'"]] },
  { name: "duplicate key", text: LORA('  r = 4\n  r = 8\n  target "q"'), expect: [["4:3", "'r' is set twice"]] },
  { name: "no targets", text: LORA("  r = 4"), expect: [["2:9", "adapter 'a' selects no modules"]] },
  { name: "targets on a prompt method", text: 'peft 1\nadapter p: prompt_tuning { target "q" }\n', expect: [["2:28", "takes no 'target' rules"]] },
  { name: "conflicting fields: OFT r and block_size", text: 'peft 1\nadapter o: oft {\n  r = 4\n  block_size = 16\n  target "q"\n}\n', expect: [["4:16", "give r (4) or block_size (16), not both"]] },
  { name: "conflicting fields: BOFT block_size and block_num", text: 'peft 1\nadapter b: boft {\n  block_size = 4\n  block_num = 8\n  target "q"\n}\n', expect: [["4:15", "give block_size (4) or block_num (8), not both"]] },
  { name: "AdaLoRA without total_step", text: 'peft 1\nadapter x: adalora {\n  target "q"\n}\n', expect: [["2:9", "AdaLoRA needs total_step"]] },
  { name: "AdaLoRA schedule with no budgeting phase", text: 'peft 1\nadapter x: adalora {\n  total_step = 100\n  tinit = 60\n  tfinal = 40\n  target "q"\n}\n', expect: [["4:11", "leave no budgeting phase"]] },
  { name: "per-target key that is adapter-wide", text: LORA('  target "q" { dropout = 0.1 }'), expect: [["3:16", "unknown setting 'dropout' for a target rule of lora"]] },
  { name: "unknown model family", text: 'peft 1\nmodel lama { path = "m" }\n', expect: [["2:7", "unknown model family 'lama'"]] },
  { name: "train for an unknown adapter", text: 'peft 1\nadapter chat: lora { target "q" }\ntrain chta { data = "x.jsonl" }\n', expect: [["3:7", "train names adapter 'chta'"]] },
  { name: "train without data", text: 'peft 1\nadapter chat: lora { target "q" }\ntrain chat { steps = 10 }\n', expect: [["3:1", "needs 'data'"]] },
  { name: "warmup longer than training", text: 'peft 1\nadapter chat: lora { target "q" }\ntrain chat { data = "x.jsonl"  steps = 10  schedule = cosine { warmup = 20 } }\n', expect: [["3:73", "warmup (20 steps) is longer than training (10 steps)"]] },
  { name: "binary garbage", text: "\u0000\u0001\u0002\u00ff\ufffdELF\u0007peft", expect: [["1:1", "unexpected character"]] },
];

for (const bad of corpus) {
  test(`bad spec: ${bad.name}`, () => {
    const result = analyzeSpec({ path: "bad.peft", text: bad.text });
    const index = new LineIndex(bad.text);
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    assert.ok(errors.length > 0, "expected an error");
    assert.is(result.ir, undefined);
    for (const [where, fragment] of bad.expect) {
      const found = errors.find((d) => {
        const { line, column } = index.position(d.span?.start ?? -1);
        return `${line}:${column}` === where && d.message.includes(fragment);
      });
      const got = errors.map((d) => {
        const { line, column } = index.position(d.span?.start ?? 0);
        return `${line}:${column} ${d.message}`;
      });
      assert.ok(found, `expected ${where} "${fragment}"; got:\n  ${got.join("\n  ")}`);
    }
  });
}

test("the command line reports every bad spec with file:line:col, exit 1 and no stack trace", () => {
  const dir = mkdtempSync(join(tmpdir(), "peftc-bad-"));
  const files = corpus.map((bad, i) => {
    const file = join(dir, `bad-${i}.peft`);
    writeFileSync(file, bad.text);
    return file;
  });
  // One run over the whole corpus: each file's first expected error is printed where it belongs.
  const all = peftc(["check", ...files]);
  assert.is(all.status, 1);
  assert.ok(!hasStackTrace(all.stderr), all.stderr);
  for (const [i, file] of files.entries()) {
    assert.ok(all.stderr.includes(`${file}:${corpus[i]!.expect[0]![0]}: error: `), `${corpus[i]!.name}:\n${all.stderr}`);
  }
  // And one file at a time, for a sample of the kinds of error: exit 1 each.
  for (const i of [0, 3, 7, 9, 14, 25, corpus.length - 1]) {
    const result = peftc(["check", files[i]!]);
    assert.is(result.status, 1, `${corpus[i]!.name}: exit ${result.status}\n${result.stderr}`);
    assert.ok(!hasStackTrace(result.stderr), result.stderr);
  }
});

test("all errors of a file are reported in one run", () => {
  const text = 'peft 1\nmodel lama { path = "m" }\nadapter a: lora {\n  rank = 4\n  r = 0\n  target "x..y"\n}\nadapter b: lroa { }\n';
  const result = analyzeSpec({ path: "many.peft", text });
  const messages = result.diagnostics.map((d) => d.message);
  for (const fragment of ["unknown model family", "unknown setting 'rank'", "'r' must be >= 1", "bad glob", "unknown method 'lroa'"]) {
    assert.ok(messages.some((m) => m.includes(fragment)), `missing "${fragment}" in ${messages.join(" | ")}`);
  }
});

test("a missing spec file, a directory and a bad command line", () => {
  const missing = peftc(["check", "/nonexistent/spec.peft"]);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, "cannot read /nonexistent/spec.peft: no such file");
  const directory = peftc(["check", tmpdir()]);
  assert.is(directory.status, 1);
  assert.match(directory.stderr, "is a directory");
  assert.is(peftc(["check"]).status, 2);
  assert.is(peftc(["frobnicate"]).status, 2);
  assert.is(peftc(["check", "--no-such-flag", "x.peft"]).status, 2);
  assert.is(peftc(["--help"]).status, 0);
  for (const result of [missing, directory]) assert.ok(!hasStackTrace(result.stderr), result.stderr);
});

test.run();
