import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TrainSettings } from "../../compiler/bundle/train-settings.js";
import type { LoadedModel } from "../../compiler/models/load.js";
import { split, toSequences, type Sequence } from "../../runtime/data/batches.js";
import { readExamples, type DataFormat, type Example } from "../../runtime/data/examples.js";
import { loadTokenizer, type ModelTokenizer } from "../../runtime/data/tokenizer.js";

/** The model's tokenizer (tokenizer.json, with bos/eos as its config says). */
export function modelTokenizer(model: LoadedModel): ModelTokenizer {
  const config = JSON.parse(readFileSync(join(model.tree.dir, "config.json"), "utf8")) as Record<string, unknown>;
  return loadTokenizer(model.tree.dir, config);
}

/** The model's tokenizer, when its data needs one (token-id data does not). */
export function tokenizerFor(model: LoadedModel): ModelTokenizer | undefined {
  try {
    return modelTokenizer(model);
  } catch (e) {
    // Text data will say it needs the tokenizer; token ids need none.
    if ((e as Error).message.includes("has no tokenizer.json")) return undefined;
    throw e;
  }
}

export function readData(model: LoadedModel, path: string, format: DataFormat, tokenizer = tokenizerFor(model)): { examples: Example[]; padId: number } {
  const examples = readExamples(path, { format, ...(tokenizer ? { tokenizer } : {}), vocabSize: model.tree.config.vocabSize });
  return { examples, padId: tokenizer?.eos ?? model.tree.config.eosTokenId ?? 0 };
}

/** Training and evaluation sequences as the train block says: an eval file, a held-out split, or none. */
export function loadTrainingData(model: LoadedModel, s: TrainSettings, path: string, evalPath?: string): { train: Sequence[]; evaluation: Sequence[] } {
  const tokenizer = tokenizerFor(model);
  const { examples, padId } = readData(model, path, s.data.format, tokenizer);
  let trainExamples = examples;
  let evalExamples: Example[] = [];
  if (evalPath) evalExamples = readData(model, evalPath, s.data.format, tokenizer).examples;
  else if (s.data.evalSplit > 0) ({ train: trainExamples, eval: evalExamples } = split(examples, s.data.evalSplit, s.seed));
  return {
    train: toSequences(trainExamples, s.seqLen, s.data.packing, padId),
    // Evaluation is one example a sequence, so that each example's loss can be reported.
    evaluation: toSequences(evalExamples, s.seqLen, false, padId),
  };
}
