// JSONL data to token sequences: formats, masks, packing, seeded order, and
// every malformed line named by file and line.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BatchStream, predictedTokens, shuffled, split, toSequences } from "../../runtime/data/batches.js";
import { DataError, IGNORE, readExamples } from "../../runtime/data/examples.js";
import { loadTokenizer } from "../../runtime/data/tokenizer.js";
import { scratchDir, tinyModel } from "../helpers/fixtures.js";

const dir = scratchDir("data");
let n = 0;
function jsonl(lines: string[]): string {
  const path = join(dir, `d${n++}.jsonl`);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

test("the model's tokenizer: llama adds bos, gpt2 does not; text round-trips", () => {
  const llama = loadTokenizer(tinyModel("llama"));
  assert.is(llama.addBos, true);
  assert.is(llama.bos, 1);
  assert.is(llama.eos, 2);
  const gpt2 = loadTokenizer(tinyModel("gpt2"));
  assert.is(gpt2.addBos, false);
  assert.is(gpt2.eos, 0);
  const text = "The code of red is 17. Ünïcödé too";
  assert.is(llama.decode(llama.encode(text)), text);
});

test("prompt/completion: loss on the completion (and eos) only", () => {
  const tokenizer = loadTokenizer(tinyModel("llama"));
  const [e] = readExamples(jsonl(['{"prompt": "The code of red is", "completion": " 17."}']), { format: "auto", tokenizer, vocabSize: tokenizer.vocabSize });
  const prompt = [tokenizer.bos!, ...tokenizer.encode("The code of red is")];
  const completion = [...tokenizer.encode(" 17."), tokenizer.eos!];
  assert.equal(e!.ids, [...prompt, ...completion]);
  assert.equal(e!.labels, [...prompt.map(() => IGNORE), ...completion]);
});

test("text: every token but bos is a label; token ids are used as given", () => {
  const tokenizer = loadTokenizer(tinyModel("gpt2"));
  const [text, tokens, labelled] = readExamples(jsonl([
    '{"text": "hello world"}',
    '{"input_ids": [5, 6, 7]}',
    '{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}',
  ]), { format: "auto", tokenizer, vocabSize: tokenizer.vocabSize });
  assert.equal(text!.labels, text!.ids);
  assert.equal(text!.ids[text!.ids.length - 1], tokenizer.eos);
  assert.equal(tokens!.labels, [5, 6, 7]);
  assert.equal(labelled!.labels, [IGNORE, 6, 7]);
});

const malformed: [string, string[], string, RegExp][] = [
  ["bad JSON", ['{"text": "a"}', '{"text": '], "auto", /:2: not valid JSON/],
  ["not an object", ['["text"]'], "auto", /:1: expected a JSON object/],
  ["unknown shape", ['{"txt": "a"}'], "auto", /:1: expected \{"text"\}, \{"prompt", "completion"\} or \{"input_ids"\}; found keys "txt"/],
  ["a field of the wrong type", ['{"text": 5}'], "auto", /:1: "text" must be a string/],
  ["format disagrees", ['{"text": "a"}'], "completion", /:1: format completion needs "prompt" and "completion"; this line lacks "prompt", "completion"/],
  ["token id out of range", ['{"input_ids": [1, 99999]}'], "auto", /:1: "input_ids"\[1\] = 99999 is not a token id of this model \(0 to 333\)/],
  ["labels of another length", ['{"input_ids": [1, 2], "labels": [1]}'], "auto", /:1: "labels" has 1 entries but "input_ids" has 2/],
  ["empty file", [""], "auto", /holds no examples/],
];

for (const [name, lines, format, message] of malformed) {
  test(`malformed data: ${name}`, () => {
    const path = jsonl(lines);
    const tokenizer = loadTokenizer(tinyModel("llama"));
    assert.throws(() => readExamples(path, { format: format as "auto", tokenizer, vocabSize: tokenizer.vocabSize }),
      (e: Error) => e instanceof DataError && e.message.startsWith(path) && message.test(e.message));
  });
}

test("padding cuts each example to seq_len; packing runs them together", () => {
  const examples = [
    { ids: [1, 2, 3], labels: [IGNORE, 2, 3], line: 1 },
    { ids: [4, 5, 6, 7, 8], labels: [4, 5, 6, 7, 8], line: 2 },
  ];
  const padded = toSequences(examples, 4, false, 0);
  assert.equal([...padded[0]!.ids], [1, 2, 3, 0]);
  assert.equal([...padded[0]!.labels], [IGNORE, 2, 3, IGNORE]);
  assert.equal([...padded[1]!.ids], [4, 5, 6, 7]);
  const packed = toSequences(examples, 4, true, 0);
  assert.equal(packed.map((s) => [...s.ids]), [[1, 2, 3, 4], [5, 6, 7, 8]]);
  assert.is(predictedTokens(packed[0]!), 3);
});

test("shuffles and splits are seeded: the same seed, the same order", () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  assert.equal(shuffled(items, 7), shuffled(items, 7));
  assert.not.equal(shuffled(items, 7), shuffled(items, 8));
  const { train, eval: held } = split(items, 0.2, 3);
  assert.is(held.length, 10);
  assert.is(train.length + held.length, 50);
  assert.equal(split(items, 0.2, 3).eval, held);
});

test("batch k is the same batch however the stream is read (resume)", () => {
  const sequences = toSequences(Array.from({ length: 10 }, (_, i) => ({ ids: [i + 1], labels: [i + 1], line: i })), 1, false, 0);
  const first = new BatchStream(sequences, 3, 42, true);
  const all = Array.from({ length: 8 }, (_, k) => first.batchAt(k).map((s) => s.ids[0]));
  const resumed = new BatchStream(sequences, 3, 42, true);
  assert.equal(resumed.batchAt(5).map((s) => s.ids[0]), all[5]);
  // Every epoch visits every sequence once.
  assert.equal(all.flat().slice(0, 10).sort((a, b) => a! - b!), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test.run();
