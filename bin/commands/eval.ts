import { resolve } from "node:path";
import { UserError } from "../../compiler/errors.js";
import { lowerCausalLM } from "../../compiler/graph/causal-lm.js";
import { loadModel, type LoadedModel } from "../../compiler/models/load.js";
import { ModelError } from "../../compiler/models/types.js";
import type { LoadedAdapter } from "../../compiler/peft-config/load-adapter.js";
import { toSequences } from "../../runtime/data/batches.js";
import { DataError, type Example } from "../../runtime/data/examples.js";
import { TokenizerError } from "../../runtime/data/tokenizer.js";
import { GraphRunner } from "../../runtime/executor/graph-runner.js";
import { readFloat32 } from "../../runtime/files/checkpoint.js";
import { evaluateRows, type RowLoss } from "../../runtime/executor/evaluate-rows.js";
import { acquireRuntime } from "../../runtime/gpu/index.js";
import type { Io } from "../io.js";
import { adapterIndex, graphAdapters, loadNamedAdapters, NO_ADAPTER } from "./adapters.js";
import { readData } from "./data.js";

export interface EvalOptions {
  model: string;
  /** `[NAME=]DIR` values. */
  adapter?: string[];
  /** Adapters to evaluate the whole data with, one run each ("none": the base). */
  use?: string[];
  data: string;
  json?: boolean;
  batch?: number;
  seqLen?: number;
  /** Fold the loaded adapters into the base weights first (PEFT's merge_adapter) and evaluate the merged model. */
  merge?: boolean;
}

interface Run {
  /** The adapter's name, or null for the base model. */
  adapter: string | null;
  loss: number;
  tokens: number;
  perExample: number[];
}

/**
 * Mean next-token cross-entropy (and perplexity) of a model over a JSONL
 * file, one example a sequence: with no adapter, one adapter, or several
 * loaded together over one base. With several, the data is evaluated once
 * per adapter named by --use (default: each loaded one), or, when examples
 * carry an "adapter" field, each example with its own; either way batches
 * mix adapters row by row.
 */
export async function evalCommand(io: Io, options: EvalOptions): Promise<number> {
  try {
    const model = loadModel(resolve(options.model));
    const data = resolve(options.data);
    const { examples, padId } = readData(model, data, "auto");
    let adapters = loadNamedAdapters(io, model, options.adapter ?? []);
    const perExample = exampleAdapters(data, examples);
    // One adapter directory given plainly: PEFT's default adapter, the top of the directory, else the first subfolder.
    if (adapters.length > 1 && (options.adapter ?? []).length === 1 && !options.use && !perExample) {
      io.err(`note: ${options.adapter![0]} holds ${adapters.length} adapters; evaluating '${adapters[0]!.name}'`);
      adapters = adapters.slice(0, 1);
    }
    const longest = Math.max(...examples.map((e) => e.ids.length));
    const seqLen = Math.min(options.seqLen ?? longest, model.tree.config.maxPositions);
    if (longest > seqLen) io.err(`note: examples longer than ${seqLen} tokens are cut to ${seqLen}`);
    if (options.merge) {
      if (adapters.length === 0) throw new UserError("--merge folds the loaded adapters into the base weights: give at least one --adapter");
      if (options.use || perExample) throw new UserError('--merge evaluates every example with all loaded adapters merged: --use and per-example "adapter" fields cannot pick one');
      const losses = await evaluate(model, adapters, examples.map((e) => ({ example: e, adapter: -1 })), seqLen, padId, options.batch ?? 8, true);
      const r = summary(losses);
      if (options.json) io.out(JSON.stringify({ loss: r.loss, tokens: r.tokens, per_example: r.perExample, merged: adapters.map((a) => a.name) }));
      else io.out(`loss ${r.loss.toFixed(4)}  perplexity ${Math.exp(r.loss).toFixed(3)}  over ${r.tokens} predicted tokens in ${examples.length} examples (merged: ${adapters.map((a) => a.name).join(", ")})`);
      return 0;
    }
    const runs = perExample ? [] : (options.use ?? (adapters.length > 0 ? adapters.map((a) => a.name) : [NO_ADAPTER]));
    const rows = perExample
      ? examples.map((e, i) => ({ example: e, run: 0, adapter: adapterIndex(adapters, perExample[i]!) }))
      : runs.flatMap((name, run) => examples.map((e) => ({ example: e, run, adapter: adapterIndex(adapters, name) })));
    const losses = await evaluate(model, adapters, rows, seqLen, padId, options.batch ?? 8);
    if (perExample) {
      printPerExample(io, options, adapters, perExample, losses);
      return 0;
    }
    const results: Run[] = runs.map((name, run) => {
      const mine = losses.filter((_, i) => rows[i]!.run === run);
      return { adapter: name === NO_ADAPTER ? null : name, ...summary(mine) };
    });
    if (results.length === 1 && (options.adapter ?? []).length <= 1 && !options.use) {
      // One model, as before several adapters could be given: the same output.
      const r = results[0]!;
      if (options.json) io.out(JSON.stringify({ loss: r.loss, tokens: r.tokens, per_example: r.perExample }));
      else io.out(`loss ${r.loss.toFixed(4)}  perplexity ${Math.exp(r.loss).toFixed(3)}  over ${r.tokens} predicted tokens in ${examples.length} examples`);
      return 0;
    }
    if (options.json) {
      io.out(JSON.stringify({ runs: results.map((r) => ({ adapter: r.adapter, loss: r.loss, tokens: r.tokens, per_example: r.perExample })) }));
    } else {
      for (const r of results) {
        io.out(`${(r.adapter ?? "(no adapter)").padEnd(14)} loss ${r.loss.toFixed(4)}  perplexity ${Math.exp(r.loss).toFixed(3)}  over ${r.tokens} predicted tokens in ${examples.length} examples`);
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof DataError || e instanceof TokenizerError || e instanceof ModelError) throw new UserError(e.message);
    throw e;
  }
}

/** Each row's losses with its adapter (or, merged, with every adapter folded into the weights first). */
async function evaluate(model: LoadedModel, adapters: LoadedAdapter[], rows: { example: Example; adapter: number }[], seqLen: number, padId: number, batchSize: number, merged = false): Promise<RowLoss[]> {
  const setup = graphAdapters(model, adapters, rows.map((r) => r.adapter), merged);
  const batch = Math.min(batchSize, rows.length);
  const runtime = await acquireRuntime();
  const { graph, wgsl } = lowerCausalLM({ tree: model.tree, plan: setup.plan, batch, seqLen, device: runtime.profile, ...(setup.mixed ? { mixed: {} } : {}), ...(setup.merge ? { merge: setup.merge } : {}) });
  const runner = await GraphRunner.create(runtime, graph, wgsl, { weight: (name) => readFloat32(model.checkpoint, name), saved: setup.saved, seed: 0 });
  try {
    if (setup.merge) await runner.run(["merge"]);
    const sequences = toSequences(rows.map((r) => r.example), seqLen, false, padId);
    return await evaluateRows(runner, sequences.map((sequence, i) => ({ sequence, adapter: setup.index(rows[i]!.adapter) })));
  } finally {
    runner.destroy();
  }
}

/** The examples' losses under the base model with every adapter merged into its weights on the GPU (in order, weight 1). */

function summary(losses: RowLoss[]): { loss: number; tokens: number; perExample: number[] } {
  const sum = losses.reduce((s, l) => s + l.sum, 0);
  const tokens = losses.reduce((n, l) => n + l.tokens, 0);
  return { loss: tokens > 0 ? sum / tokens : Number.NaN, tokens, perExample: losses.map((l) => (l.tokens > 0 ? l.sum / l.tokens : Number.NaN)) };
}

/** Each example's "adapter" field, when the data names adapters per example (all examples must then). */
function exampleAdapters(path: string, examples: Example[]): string[] | undefined {
  const named = examples.map((e) => e.adapter);
  if (named.every((a) => a === undefined)) return undefined;
  return named.map((a, i) => {
    if (typeof a !== "string") {
      throw new UserError(`${path}:${examples[i]!.line}: ${a === undefined ? "no" : "a non-string"} "adapter"; when examples name their adapter, every one must (a loaded adapter's name, or "${NO_ADAPTER}")`);
    }
    return a;
  });
}

function printPerExample(io: Io, options: EvalOptions, adapters: LoadedAdapter[], named: string[], losses: RowLoss[]): void {
  const all = summary(losses);
  const names = [...new Set(named)];
  const groups = names.map((name) => ({ adapter: name === NO_ADAPTER ? null : name, examples: named.filter((n) => n === name).length, ...summary(losses.filter((_, i) => named[i] === name)) }));
  void adapters;
  if (options.json) {
    io.out(JSON.stringify({
      loss: all.loss, tokens: all.tokens, per_example: all.perExample,
      adapters: groups.map((g) => ({ adapter: g.adapter, loss: g.loss, tokens: g.tokens, examples: g.examples })),
    }));
    return;
  }
  io.out(`loss ${all.loss.toFixed(4)}  perplexity ${Math.exp(all.loss).toFixed(3)}  over ${all.tokens} predicted tokens in ${named.length} examples, each with its own adapter`);
  for (const g of groups) io.out(`  ${(g.adapter ?? "(no adapter)").padEnd(14)} loss ${g.loss.toFixed(4)}  over ${g.tokens} tokens in ${g.examples} examples`);
}
