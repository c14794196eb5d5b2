import { test } from "uvu";
import { crossEntropy } from "../../compiler/codegen/cross_entropy.js";
import { crossEntropy as ref } from "../reference/cross_entropy.js";
import { assertClose, f64, kernelRuntime, randomF32, randomInt, runSteps, type TensorInit } from "../helpers/kernels.js";

// A log-sum-exp over V terms and one exp per element, in f32.
const BOUND = 1e-5;

async function check(tokens: number, vocab: number, inPlace: boolean, masked: number[] = []): Promise<void> {
  const { profile } = await kernelRuntime();
  const logits = randomF32(tokens * vocab, -8, 8);
  const labels = randomInt(tokens, 0, vocab);
  for (const t of masked) labels[t] = -100;
  const gradScale = 1 / Math.max(1, tokens - masked.length);
  const instance = crossEntropy({ tokens, vocab, inPlace }, profile);
  const tensors: Record<string, TensorInit> = { logits, labels, loss: { length: tokens } };
  if (!inPlace) tensors.dlogits = { length: tokens * vocab };
  const out = await runSteps(tensors, [{ instance, params: { gradScale } }]);
  const want = ref(f64(logits), labels, vocab, gradScale);
  const what = `cross-entropy tokens=${tokens} vocab=${vocab}${inPlace ? " in place" : ""}`;
  assertClose(out.loss!, want.loss, BOUND, `${what} loss`);
  assertClose(inPlace ? out.logits! : out.dlogits!, want.dlogits, BOUND, `${what} dlogits`);
}

test("cross-entropy with softmax: loss and logits gradient, masked labels", async () => {
  await check(9, 50, false, [2, 7]);
  await check(1, 1000, false);
  await check(33, 3001, true, [0, 32]);
  await check(4, 1, false);
});

test("cross-entropy, loss only: the same loss, and the logits left as they were", async () => {
  const { profile } = await kernelRuntime();
  for (const [tokens, vocab] of [[9, 50], [3, 3001]] as const) {
    const logits = randomF32(tokens * vocab, -8, 8);
    const labels = randomInt(tokens, 0, vocab);
    labels[1] = -100;
    const out = await runSteps({ logits, labels, loss: { length: tokens } }, [{ instance: crossEntropy({ tokens, vocab, gradient: false }, profile) }]);
    assertClose(out.loss!, ref(f64(logits), labels, vocab, 1).loss, BOUND, `loss only tokens=${tokens} vocab=${vocab}`);
    assertClose(out.logits!, f64(logits), 0, "the logits are untouched");
  }
});

test.run();
