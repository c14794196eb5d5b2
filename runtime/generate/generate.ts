// The generation loop: prefill the prompts, then one decode step per token
// until each sequence meets an end token, its token budget, or the end of
// the cache. Each step reads back only the logits; tokens are chosen here.
import { sampleToken, samplingRng, type SamplingOptions } from "./sampling.js";
import { PADDING, type DecodeSession } from "./session.js";

export interface GenerationRequest {
  /** Prompt token ids (with bos when the tokenizer adds one). */
  prompt: number[];
  /** The adapter's index in the graph's plan, −1 for none. */
  adapter: number;
  /** This sequence's sampling stream (its place among all prompts). */
  stream: number;
}

export interface GenerationSettings extends SamplingOptions {
  maxTokens: number;
  seed: number;
  /** Tokens that end a sequence (kept as its last token). */
  eos: readonly number[];
}

export interface GenerationOutput {
  tokens: number[];
  finish: "eos" | "length";
}

/** Generates for up to session.batch requests at once. */
export async function generateBatch(
  session: DecodeSession,
  requests: readonly GenerationRequest[],
  settings: GenerationSettings,
  onToken?: (row: number, token: number) => void,
): Promise<GenerationOutput[]> {
  session.setAdapters(requests.map((r) => r.adapter));
  const random = requests.map((r) => samplingRng(settings.seed, r.stream));
  const eos = new Set(settings.eos);
  const outputs: GenerationOutput[] = requests.map(() => ({ tokens: [], finish: "length" }));
  const active = requests.map(() => settings.maxTokens > 0);
  const vocab = session.vocab;
  let logits = await session.prefill(requests.map((r) => r.prompt));
  for (;;) {
    requests.forEach((r, b) => {
      if (!active[b]) return;
      const token = sampleToken(logits.subarray(b * vocab, (b + 1) * vocab), settings, random[b]!);
      outputs[b]!.tokens.push(token);
      onToken?.(b, token);
      if (eos.has(token)) {
        outputs[b]!.finish = "eos";
        active[b] = false;
      } else if (outputs[b]!.tokens.length >= settings.maxTokens || r.prompt.length + outputs[b]!.tokens.length > session.capacity) {
        // Budget spent, or no cache slot left for the token just chosen.
        active[b] = false;
      }
    });
    if (!active.some(Boolean)) return outputs;
    // Each active sequence feeds its newest token at the next position; stopped ones are padding.
    const positions = requests.map((r, b) => (active[b] ? r.prompt.length + outputs[b]!.tokens.length - 1 : PADDING));
    logits = await session.decode(outputs.map((o) => o.tokens[o.tokens.length - 1] ?? 0), positions);
  }
}
