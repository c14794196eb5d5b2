// The model's own tokenizer (tokenizer.json + tokenizer_config.json) through
// @huggingface/tokenizers, with the special tokens the model was trained with.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

export class TokenizerError extends Error {}

export interface ModelTokenizer {
  encode(text: string): number[];
  /** As transformers' tokenizer(text)["input_ids"]: with the special tokens the tokenizer adds (Llama's bos). */
  encodeWithSpecial(text: string): number[];
  decode(ids: number[], skipSpecial?: boolean): string;
  bos: number | null;
  eos: number | null;
  /** Put bos before every sequence, as the model's tokenizer does (Llama yes, GPT-2 and Qwen2 no). */
  addBos: boolean;
  vocabSize: number;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new TokenizerError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

function tokenText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as { content?: unknown }).content === "string") return (value as { content: string }).content;
  return undefined;
}

export function loadTokenizer(modelDir: string, modelConfig: { bos_token_id?: unknown; eos_token_id?: unknown } = {}): ModelTokenizer {
  const path = join(modelDir, "tokenizer.json");
  if (!existsSync(path)) throw new TokenizerError(`${modelDir} has no tokenizer.json (needed to tokenize text; token data {"input_ids"} needs none)`);
  const json = readJson(path);
  const configPath = join(modelDir, "tokenizer_config.json");
  const config = existsSync(configPath) ? readJson(configPath) : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
  } catch (e) {
    throw new TokenizerError(`${path}: cannot be read as a tokenizer (${(e as Error).message})`);
  }
  const idOf = (name: unknown, fallback: unknown): number | null => {
    const text = tokenText(name);
    const id = text !== undefined ? tokenizer.token_to_id(text) : undefined;
    if (id !== undefined) return id;
    const first = Array.isArray(fallback) ? fallback[0] : fallback;
    return typeof first === "number" ? first : null;
  };
  const bos = idOf(config.bos_token, modelConfig.bos_token_id);
  const eos = idOf(config.eos_token, modelConfig.eos_token_id);
  const vocab = (json.model as { vocab?: Record<string, number> } | undefined)?.vocab ?? {};
  const added = (json.added_tokens as { id: number }[] | undefined) ?? [];
  const vocabSize = Math.max(-1, ...Object.values(vocab), ...added.map((t) => t.id)) + 1;
  return {
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    encodeWithSpecial: (text) => {
      const ids = tokenizer.encode(text, { add_special_tokens: true }).ids;
      // tokenizer_config's add_bos_token is what transformers follows, whatever tokenizer.json's post-processor says.
      return config.add_bos_token === true && bos !== null && ids[0] !== bos ? [bos, ...ids] : ids;
    },
    decode: (ids, skipSpecial = true) => tokenizer.decode(ids, { skip_special_tokens: skipSpecial }),
    bos,
    eos,
    addBos: config.add_bos_token === true && bos !== null,
    vocabSize,
  };
}
