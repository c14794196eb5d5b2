// peftc generate: text from a model with a KV cache on the GPU, with one or
// several PEFT adapters loaded once over the same base weights. Each prompt
// names its adapter (--use, in prompt order); prompts are generated together
// in batches whose sequences may each use a different adapter.
import { resolve } from "node:path";
import { UserError } from "../../compiler/errors.js";
import { lowerDecode } from "../../compiler/graph/decode.js";
import { loadModel } from "../../compiler/models/load.js";
import { ModelError } from "../../compiler/models/types.js";
import { TokenizerError, type ModelTokenizer } from "../../runtime/data/tokenizer.js";
import { GraphRunner } from "../../runtime/executor/graph-runner.js";
import { readFloat32 } from "../../runtime/files/checkpoint.js";
import { eosTokens } from "../../runtime/generate/eos.js";
import { generateBatch, type GenerationOutput, type GenerationRequest } from "../../runtime/generate/generate.js";
import { DecodeSession } from "../../runtime/generate/session.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import { stderrIsTty, type Io } from "../io.js";
import { adapterIndex, graphAdapters, loadNamedAdapters, NO_ADAPTER } from "./adapters.js";
import { modelTokenizer } from "./data.js";

export interface GenerateOptions {
  model: string;
  /** `[NAME=]DIR` values; false with --no-adapter. */
  adapter?: string[] | false;
  prompt: string[];
  use?: string[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  batch?: number;
  json?: boolean;
  /** Fold the loaded adapters into the base weights once (PEFT's merge_adapter): every prompt runs the merged model. */
  merge?: boolean;
}

/** Prompt tokens per prefill run: fixed, so that kernels compiled once serve every prompt length. */
const CHUNK = 16;
/** Sequences generated together at most. */
const MAX_BATCH = 8;

export async function generateCommand(io: Io, options: GenerateOptions): Promise<number> {
  try {
    return await run(io, options);
  } catch (e) {
    if (e instanceof TokenizerError || e instanceof ModelError) throw new UserError(e.message);
    throw e;
  }
}

async function run(io: Io, options: GenerateOptions): Promise<number> {
  const model = loadModel(resolve(options.model));
  const tokenizer = modelTokenizer(model);
  const adapters = options.adapter === false ? [] : loadNamedAdapters(io, model, options.adapter ?? []);
  const prompts = options.prompt;
  if (options.merge) {
    if (adapters.length === 0) throw new UserError("--merge folds the loaded adapters into the base weights: give at least one --adapter");
    if (options.use) throw new UserError("--merge runs every prompt on the model with all loaded adapters merged: --use cannot pick one");
  }
  const uses = options.merge ? new Array<string>(prompts.length).fill(NO_ADAPTER) : useList(options, prompts.length, adapters.length > 0 ? adapters[0]!.name : NO_ADAPTER);
  const used = uses.map((name) => adapterIndex(adapters, name));
  const maxPositions = model.tree.config.maxPositions;
  const encoded = prompts.map((text, i) => {
    const ids = [...(tokenizer.addBos && tokenizer.bos !== null ? [tokenizer.bos] : []), ...tokenizer.encode(text)];
    if (ids.length === 0) throw new UserError(`prompt ${i + 1} is empty (and the model's tokenizer adds no start token)`);
    if (ids.length >= maxPositions) {
      throw new UserError(`prompt ${i + 1} is ${ids.length} tokens long; the model takes at most ${maxPositions} positions, and generating needs at least one more`);
    }
    return ids;
  });
  const longest = Math.max(...encoded.map((p) => p.length));
  let maxTokens = options.maxTokens ?? 32;
  if (longest + maxTokens - 1 > maxPositions) {
    maxTokens = maxPositions - longest + 1;
    io.err(`note: the model has ${maxPositions} positions: at most ${maxTokens} new tokens after the longest prompt`);
  }
  const temperature = options.temperature ?? 0;
  const topP = options.topP ?? 1;
  if (!(temperature >= 0)) throw new UserError(`--temperature must be 0 (greedy) or more, not ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new UserError(`--top-p must be in (0, 1], not ${topP}`);

  const setup = graphAdapters(model, adapters, used, options.merge);
  const batch = Math.min(options.batch ?? MAX_BATCH, prompts.length);
  // Whole powers of two, so that the cache's kernels serve many prompt and budget sizes.
  const needed = Math.max(longest, longest + maxTokens - 1);
  const capacity = Math.min(maxPositions, Math.max(64, 2 ** Math.ceil(Math.log2(needed))));
  const runtime = await acquireRuntime();
  const { graph, wgsl } = lowerDecode({
    tree: model.tree, plan: setup.plan, device: runtime.profile, batch, chunk: Math.min(CHUNK, capacity), capacity, ...(setup.mixed ? { mixed: {} } : {}), ...(setup.merge ? { merge: setup.merge } : {}),
  });
  const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (n) => readFloat32(model.checkpoint, n), saved: setup.saved, seed: 0 });
  // Merged: the merge phase folds every adapter into the weights the base graph reads, once.
  if (setup.merge) await runner.run(["merge"]);
  const session = new DecodeSession(runner);
  // transformers samples from the 50 most probable tokens unless told otherwise.
  const settings = { maxTokens, temperature, topP, topK: options.topK ?? 50, seed: options.seed ?? 0, eos: eosTokens(model.tree.dir, tokenizer.eos) };
  const outputs: GenerationOutput[] = [];
  const started = performance.now();
  // One prompt on a terminal: the text as it comes.
  const streamer = !options.json && prompts.length === 1 && io.isTty && io.write ? new TextStreamer(tokenizer, io.write.bind(io)) : undefined;
  if (streamer) io.write!(prompts[0]!);
  try {
    for (let at = 0; at < prompts.length; at += batch) {
      const requests: GenerationRequest[] = encoded.slice(at, at + batch).map((prompt, k) => ({ prompt, adapter: setup.index(used[at + k]!), stream: at + k }));
      outputs.push(...(await generateBatch(session, requests, settings, streamer ? (_, token) => streamer.push(token) : undefined)));
    }
  } finally {
    runner.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const generated = outputs.reduce((n, o) => n + o.tokens.length, 0);
  const merged = options.merge ? adapters.map((a) => a.name) : undefined;
  const results = outputs.map((o, i) => ({
    prompt: prompts[i]!,
    adapter: merged ? merged.join("+") : uses[i] === NO_ADAPTER ? null : uses[i]!,
    prompt_tokens: encoded[i]!.length,
    tokens: o.tokens,
    text: o.tokens.length > 0 ? tokenizer.decode(o.tokens) : "",
    finish_reason: o.finish,
  }));
  if (options.json) {
    io.out(JSON.stringify({ results, ...(merged ? { merged } : {}), generated_tokens: generated, seconds: round(seconds), tokens_per_s: round(generated / seconds) }));
  } else if (streamer) {
    streamer.end();
  } else {
    results.forEach((r, i) => {
      if (results.length > 1) io.out(`${i > 0 ? "\n" : ""}[${i + 1}] ${r.adapter === null ? "no adapter" : `${merged ? "merged" : "adapter"} ${r.adapter}`}`);
      io.out(`${r.prompt}${r.text}`);
    });
    if (stderrIsTty()) io.err(`${generated} tokens in ${seconds.toFixed(2)} s (${(generated / seconds).toFixed(1)} tokens/s)`);
  }
  return 0;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** The adapter name of each prompt: --use in prompt order (one --use applies to all), else the first adapter. */
function useList(options: GenerateOptions, prompts: number, fallback: string): string[] {
  const use = options.use ?? [];
  if (use.length === 0) return new Array<string>(prompts).fill(fallback);
  if (use.length === 1) return new Array<string>(prompts).fill(use[0]!);
  if (use.length !== prompts) throw new UserError(`${use.length} --use for ${prompts} --prompt: give one --use per prompt, in the same order (or one for all)`);
  return use;
}

/**
 * Decoded text written as tokens arrive. A byte-level token can end inside a
 * UTF-8 character, which decodes to U+FFFD until the rest arrives: text
 * ending in one is held back. Once a line is written whole, decoding starts
 * afresh after it (as transformers' TextStreamer), so that each token does not
 * decode the whole output again.
 */
class TextStreamer {
  private readonly tokens: number[] = [];
  private shown = 0;

  constructor(private readonly tokenizer: ModelTokenizer, private readonly write: (text: string) => void) {}

  push(token: number): void {
    this.tokens.push(token);
    const text = this.tokenizer.decode(this.tokens);
    if (text.endsWith("\uFFFD") || text.length <= this.shown) return;
    this.write(text.slice(this.shown));
    this.shown = text.length;
    if (text.endsWith("\n")) {
      this.tokens.length = 0;
      this.shown = 0;
    }
  }

  end(): void {
    const text = this.tokens.length > 0 ? this.tokenizer.decode(this.tokens) : "";
    this.write(`${text.slice(this.shown)}\n`);
  }
}
