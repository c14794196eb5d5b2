// The tokens that end generation, found where transformers looks:
// generation_config.json's eos_token_id (a number or a list), else
// config.json's, else the tokenizer's eos token.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

function ids(value: unknown): number[] | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "number" && Number.isInteger(v))) return value as number[];
  return undefined;
}

function field(path: string, key: string): number[] | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return ids((JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>)[key]);
  } catch {
    return undefined;
  }
}

export function eosTokens(modelDir: string, tokenizerEos: number | null): number[] {
  return field(join(modelDir, "generation_config.json"), "eos_token_id")
    ?? field(join(modelDir, "config.json"), "eos_token_id")
    ?? (tokenizerEos !== null ? [tokenizerEos] : []);
}
