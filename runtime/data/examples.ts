// JSONL training data, one example a line:
//   {"text": ...}                      every token is predicted
//   {"prompt": ..., "completion": ...} loss on the completion only
//   {"input_ids": [...], "labels"?: [...]}  used as given (-100 ignores a position)
// Every problem names the file and line.
import { readFileSync, statSync } from "node:fs";
import type { ModelTokenizer } from "./tokenizer.js";

export const IGNORE = -100;

export type DataFormat = "auto" | "text" | "completion" | "tokens";

export interface Example {
  ids: number[];
  /** The token each position predicts counts where labels[i] !== IGNORE (labels align with ids, as in Hugging Face). */
  labels: number[];
  /** Where it came from, for messages. */
  line: number;
  /** The line's "adapter" field as written, when it has one (evaluation with several adapters reads it). */
  adapter?: unknown;
}

export class DataError extends Error {}

export interface ReadOptions {
  format: DataFormat;
  tokenizer?: ModelTokenizer;
  vocabSize: number;
}

export function readExamples(path: string, options: ReadOptions): Example[] {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new DataError(`${path} is a directory, not a JSONL file`);
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(`cannot read ${path}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const examples: Example[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    const where = `${path}:${line}`;
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (e) {
      throw new DataError(`${where}: not valid JSON (${(e as Error).message})`);
    }
    if (!record || typeof record !== "object" || Array.isArray(record)) throw new DataError(`${where}: expected a JSON object`);
    const fields = record as Record<string, unknown>;
    examples.push({ ...toExample(fields, where, line, options), ...("adapter" in fields ? { adapter: fields.adapter } : {}) });
  });
  if (examples.length === 0) throw new DataError(`${path} holds no examples`);
  return examples;
}

function formatOf(record: Record<string, unknown>, requested: DataFormat, where: string): Exclude<DataFormat, "auto"> {
  const has = (key: string) => key in record;
  const found = has("input_ids") ? "tokens" : has("prompt") || has("completion") ? "completion" : has("text") ? "text" : undefined;
  if (requested !== "auto") {
    const needs = { text: ["text"], completion: ["prompt", "completion"], tokens: ["input_ids"] }[requested];
    const missing = needs.filter((k) => !has(k));
    if (missing.length > 0) throw new DataError(`${where}: format ${requested} needs ${needs.map((k) => `"${k}"`).join(" and ")}; this line lacks ${missing.map((k) => `"${k}"`).join(", ")}`);
    return requested;
  }
  if (!found) throw new DataError(`${where}: expected {"text"}, {"prompt", "completion"} or {"input_ids"}; found keys ${Object.keys(record).map((k) => `"${k}"`).join(", ") || "none"}`);
  return found;
}

function toExample(record: Record<string, unknown>, where: string, line: number, options: ReadOptions): Example {
  const format = formatOf(record, options.format, where);
  if (format === "tokens") {
    const ids = tokenList(record.input_ids, "input_ids", where, options.vocabSize, false);
    const labels = record.labels === undefined ? [...ids] : tokenList(record.labels, "labels", where, options.vocabSize, true);
    if (labels.length !== ids.length) throw new DataError(`${where}: "labels" has ${labels.length} entries but "input_ids" has ${ids.length}`);
    return { ids, labels, line };
  }
  const tokenizer = options.tokenizer;
  if (!tokenizer) throw new DataError(`${where}: text needs the model's tokenizer.json`);
  const bos = tokenizer.addBos && tokenizer.bos !== null ? [tokenizer.bos] : [];
  const eos = tokenizer.eos !== null ? [tokenizer.eos] : [];
  if (format === "text") {
    const text = stringField(record, "text", where);
    const ids = [...bos, ...tokenizer.encode(text), ...eos];
    return { ids, labels: ids.map((id, i) => (i < bos.length ? IGNORE : id)), line };
  }
  const prompt = stringField(record, "prompt", where);
  const completion = stringField(record, "completion", where);
  // Tokenized apart, so that the prompt's tokens are the same with or without a completion.
  const promptIds = [...bos, ...tokenizer.encode(prompt)];
  const completionIds = [...tokenizer.encode(completion), ...eos];
  if (completionIds.length === 0) throw new DataError(`${where}: the completion is empty`);
  return { ids: [...promptIds, ...completionIds], labels: [...promptIds.map(() => IGNORE), ...completionIds], line };
}

function stringField(record: Record<string, unknown>, key: string, where: string): string {
  const value = record[key];
  if (typeof value !== "string") throw new DataError(`${where}: "${key}" must be a string, not ${JSON.stringify(value)?.slice(0, 40)}`);
  return value;
}

function tokenList(value: unknown, key: string, where: string, vocabSize: number, allowIgnore: boolean): number[] {
  if (!Array.isArray(value) || value.length === 0) throw new DataError(`${where}: "${key}" must be a non-empty list of token ids`);
  return value.map((v, i) => {
    if (!Number.isInteger(v) || ((v as number) < 0 && !(allowIgnore && v === IGNORE)) || (v as number) >= vocabSize) {
      throw new DataError(`${where}: "${key}"[${i}] = ${JSON.stringify(v)} is not a token id of this model (0 to ${vocabSize - 1}${allowIgnore ? ", or -100" : ""})`);
    }
    return v as number;
  });
}
