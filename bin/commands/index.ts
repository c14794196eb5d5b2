import { InvalidArgumentError, Option, type Command } from "commander";
import type { Io } from "../io.js";
import { check } from "./check.js";
import { compile, EMIT_KINDS } from "./compile.js";
import { diffCommand } from "./diff.js";
import { doctor } from "./doctor.js";
import { fmt } from "./fmt.js";
import { importConfig } from "./import.js";
import { inspect } from "./inspect.js";
import { trainCommand } from "./train.js";
import { evalCommand } from "./eval.js";
import { generateCommand } from "./generate.js";

function collect(value: string, previous: string[] | false | undefined): string[] {
  return [...(Array.isArray(previous) ? previous : []), value];
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number");
  return n;
}

function number(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("expected a number");
  return n;
}
import { combineCommand, mergeCommand } from "./merge.js";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

/** Adds every subcommand; `setExit` receives each command's exit code. */
export function registerCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("check")
    .description("validate specs; every error is reported with its file:line:col")
    .argument("<spec...>", ".peft files")
    .option("--json", "print diagnostics as JSON")
    .action((files: string[], options) => setExit(check(io, files, options)));

  program
    .command("fmt")
    .description("rewrite specs in canonical form (comments kept)")
    .argument("<spec...>", ".peft files")
    .option("--check", "change nothing; exit 1 when a file is not formatted")
    .option("--stdout", "print the formatted text instead of rewriting the file")
    .action((files: string[], options) => setExit(fmt(io, files, options)));

  program
    .command("compile")
    .description("compile a spec against its model into a bundle (-o), or print one stage (--emit)")
    .argument("<spec>", "a .peft file")
    .addOption(new Option("--emit <stage>", "print a stage instead of writing a bundle").choices([...EMIT_KINDS]))
    .option("--model <dir>", "the Hugging Face model directory")
    .option("-o, --output <dir>", "the bundle directory to write")
    .option("--adapter <name>", "the adapter to emit, when the spec has several")
    .action(async (file: string, options) => setExit(await compile(io, file, options)));

  program
    .command("inspect")
    .description("show a spec's adapter plan against its model (or, without a model, the spec's settings and rules)")
    .argument("<spec>", "a .peft file")
    .option("--model <dir>", "the Hugging Face model directory (default: the spec's model path)")
    .option("--json", "print the plan (or, without a model, the spec IR) as JSON")
    .option("--explain <module>", "the rules and settings behind one module")
    .option("--svg <file>", "write a heatmap of trainable parameters (blocks × module roles)")
    .option("--batch <n>", "batch size for the memory estimate (default: the train block's, or 8)", positiveInt)
    .option("--seq-len <n>", "sequence length for the memory estimate (default: the train block's, or 256)", positiveInt)
    .action((file: string, options) => setExit(inspect(io, file, options)));

  program
    .command("diff")
    .description("compare two specs, bundles or PEFT adapter directories")
    .argument("<a>", "a .peft spec, a bundle directory or a PEFT adapter directory")
    .argument("<b>", "the same kinds")
    .option("--model <dir>", "resolve specs and adapters against this model directory")
    .option("--json", "print the differences as JSON")
    .option("--exit-code", "exit 1 when they differ (as git diff --exit-code)")
    .action((a: string, b: string, options) => setExit(diffCommand(io, a, b, options)));

  program
    .command("train")
    .description("train a spec's adapter on the GPU (or a compiled bundle's) and save it in PEFT's format")
    .argument("<spec>", "a .peft spec with a train block, or a bundle directory")
    .option("--model <dir>", "the Hugging Face model directory (default: the spec's model path)")
    .option("--data <file>", "the training data (JSONL), instead of the train block's")
    .option("--out <dir>", "where the adapter, metrics, loss plot and checkpoints go (default: runs/<adapter>)")
    .option("--steps <n>", "optimizer steps, instead of the train block's", positiveInt)
    .option("--resume", "continue from the newest checkpoint in --out")
    .option("--adapter <name>", "which train block, when the spec has several")
    .option("--json", "print the result as JSON")
    .action(async (input: string, options) => setExit(await trainCommand(io, input, options)));

  program
    .command("eval")
    .description("mean next-token cross-entropy and perplexity of a model, with or without PEFT adapters (several share one base)")
    .requiredOption("--model <dir>", "the Hugging Face model directory")
    .option("--adapter <[name=]dir>", "a PEFT adapter directory (saved by peftc or by Hugging Face PEFT), optionally named; repeatable", collect)
    .option("--use <name|none>", "evaluate the data with this adapter (repeatable: one run each; default: every loaded adapter)", collect)
    .requiredOption("--data <file>", "JSONL: {\"text\"}, {\"prompt\",\"completion\"} or {\"input_ids\"} a line; an \"adapter\" field picks each example's adapter")
    .option("--batch <n>", "sequences per batch (default 8)", positiveInt)
    .option("--seq-len <n>", "cut examples to this many tokens (default: the longest example)", positiveInt)
    .option("--merge", "fold the adapters into the base weights on the GPU first (PEFT's merge_adapter) and evaluate the merged model")
    .option("--json", 'print {"loss", "tokens", "per_example"}; with several adapters {"runs": [{"adapter", "loss", "tokens", "per_example"}]}, or with per-example adapters also "adapters"')
    .addHelpText("after", `
Several adapters are loaded once over one base, and each batch row runs with its own (PEFT's adapter_names):
  peftc eval --model M --adapter a=./runs/a --adapter b=./runs/b --use a --use b --use none --data eval.jsonl
  (one loss per --use), or with {"text": ..., "adapter": "a"} lines, each example with the adapter it names.`)
    .action(async (options) => setExit(await evalCommand(io, options)));

  const collectNumber = (value: string, previous: number[] = []) => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new InvalidArgumentError("expected a number");
    return [...previous, n];
  };
  const combineTypes = ["cat", "linear", "svd"];
  const combineType = (value: string) => {
    if (!combineTypes.includes(value)) throw new InvalidArgumentError(`expected one of ${combineTypes.join(", ")}`);
    return value;
  };

  program
    .command("merge")
    .description("fold PEFT adapters into a model's weights on the GPU; writes a Hugging Face model directory in the base's dtype")
    .requiredOption("--model <dir>", "the base: a Hugging Face model directory (or a directory of safetensors)")
    .requiredOption("--adapter <dir>", "a PEFT adapter directory; repeat to merge several", collect)
    .option("--weight <w>", "each adapter's weight, in --adapter order (default 1)", collectNumber)
    .option("--combine <how>", "combine the adapters first, as PEFT's add_weighted_adapter: cat, linear or svd", combineType)
    .option("--svd-rank <r>", "the rank of an svd combination (default: the largest rank)", positiveInt)
    .requiredOption("-o, --output <dir>", "the merged model directory to write")
    .option("--json", "print what was written as JSON")
    .action(async (options) => setExit(await mergeCommand(io, options)));

  program
    .command("combine")
    .description("combine PEFT adapters (LoRA: cat, linear or svd; IA3: linear) into a new adapter, as PEFT's add_weighted_adapter")
    .requiredOption("--adapter <dir>", "a PEFT adapter directory; repeat for each", collect)
    .option("--weight <w>", "each adapter's weight, in --adapter order (default 1)", collectNumber)
    .requiredOption("--combine <how>", "cat (exact), linear (equal ranks) or svd", combineType)
    .option("--svd-rank <r>", "the rank of an svd combination (default: the largest rank)", positiveInt)
    .option("--model <dir>", "check the adapters against this model (default: the shapes their files imply)")
    .requiredOption("-o, --output <dir>", "the adapter directory to write")
    .option("--json", "print what was written as JSON")
    .action((options) => setExit(combineCommand(io, options)));

  program
    .command("generate")
    .description("generate text with a model (KV cache on the GPU), with or without PEFT adapters; several adapters share the base")
    .requiredOption("--model <dir>", "the Hugging Face model directory")
    .option("--adapter <[name=]dir>", "a PEFT adapter directory, optionally named (repeatable: all are loaded once over one base)", collect)
    .option("--no-adapter", "ignore every --adapter: the base model alone")
    .requiredOption("--prompt <text>", "a prompt (repeatable; prompts are generated together)", collect)
    .option("--use <name|none>", "the adapter of each --prompt, in order (one --use applies to all; default: the first adapter)", collect)
    .option("--max-tokens <n>", "new tokens per prompt at most (default 32)", nonNegativeInt)
    .option("--temperature <t>", "0 for greedy (default); above 0 samples", number)
    .option("--top-k <k>", "sample from the k most probable tokens (default 50, as transformers; 0: all)", nonNegativeInt)
    .option("--top-p <p>", "sample from the smallest set of tokens with this much probability (default 1)", number)
    .option("--seed <n>", "the sampling seed: the same seed gives the same text (default 0)", nonNegativeInt)
    .option("--batch <n>", "prompts generated together at most (default 8)", positiveInt)
    .option("--merge", "fold the adapters into the base weights on the GPU once (PEFT's merge_adapter): every prompt runs the merged model, at the base model's cost per token")
    .option("--json", 'print {"results": [{"prompt", "adapter", "prompt_tokens", "tokens", "text", "finish_reason"}], "generated_tokens", "seconds", "tokens_per_s"}')
    .addHelpText("after", `
Examples:
  peftc generate --model ./models/tiny-llama --prompt "The quick brown fox"
  peftc generate --model M --adapter chat=./runs/chat --adapter style=./runs/style \\
      --prompt "Hello" --use chat --prompt "Hello" --use style --prompt "Hello" --use none
Generation stops at the model's end token (generation_config.json, config.json, or the tokenizer's)
or after --max-tokens. Sampling runs on the host from a generator seeded by --seed and the prompt's place.`)
    .action(async (options) => setExit(await generateCommand(io, options)));

  program
    .command("import")
    .description("write a PEFT adapter_config.json as a .peft spec")
    .argument("<config>", "adapter_config.json, or the adapter directory holding it")
    .option("-o, --output <spec>", "the .peft file to write (default: print it)")
    .option("--name <adapter>", "the adapter's name in the spec", "default")
    .action((input: string, options) => setExit(importConfig(io, input, options)));

  program
    .command("doctor")
    .description("show the WebGPU adapter, or why there is none")
    .option("--json", "print the report as JSON")
    .option("-q, --quiet", "print nothing; exit 0 when an adapter is usable")
    .action(async (options) => setExit(await doctor(io, options)));
}
