// Host-side token choice: greedy is the first maximum; sampling is
// reproducible from its seed and stream, keeps to the top-k tokens and the
// top-p nucleus, and follows the tempered distribution.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { argmax, sampleToken, samplingRng } from "../../runtime/generate/sampling.js";

const logits = Float32Array.from([0.5, 2.0, -1.0, 2.0, 1.0, 0.0]);

test("temperature 0 is greedy: the first of equal maxima, as torch.argmax", () => {
  assert.is(argmax(logits), 1);
  assert.is(sampleToken(logits, { temperature: 0, topP: 0.5 }, () => 0.99), 1);
});

test("the same seed and stream give the same draws; another seed or stream others", () => {
  const draws = (seed: number, stream: number) => {
    const r = samplingRng(seed, stream);
    return Array.from({ length: 32 }, () => sampleToken(logits, { temperature: 1, topP: 1 }, r));
  };
  assert.equal(draws(7, 0), draws(7, 0));
  assert.not.equal(draws(7, 0), draws(8, 0));
  assert.not.equal(draws(7, 0), draws(7, 1));
});

test("top-p keeps the smallest set of most probable tokens reaching p", () => {
  // Probabilities ∝ e^x: tokens 1 and 3 (0.36 each) reach 0.5 and 0.7 together; token 4 (0.13) is next.
  const r = samplingRng(1, 0);
  for (const topP of [0.5, 0.7]) {
    const seen = new Set(Array.from({ length: 400 }, () => sampleToken(logits, { temperature: 1, topP }, r)));
    assert.equal([...seen].sort(), [1, 3], `top-p ${topP}`);
  }
  const wider = new Set(Array.from({ length: 2000 }, () => sampleToken(logits, { temperature: 1, topP: 0.75 }, r)));
  assert.equal([...wider].sort(), [1, 3, 4]);
});

test("frequencies follow softmax(logits / temperature)", () => {
  const r = samplingRng(3, 0);
  const n = 20000;
  for (const temperature of [0.5, 2]) {
    const counts = new Array<number>(logits.length).fill(0);
    for (let i = 0; i < n; i++) counts[sampleToken(logits, { temperature, topP: 1 }, r)]!++;
    const weights = [...logits].map((x) => Math.exp(x / temperature));
    const total = weights.reduce((a, b) => a + b, 0);
    weights.forEach((w, i) => {
      const p = w / total;
      // Four standard deviations of a binomial count.
      assert.ok(Math.abs(counts[i]! / n - p) <= 4 * Math.sqrt((p * (1 - p)) / n) + 1e-9, `T=${temperature} token ${i}: ${counts[i]! / n} vs ${p}`);
    });
  }
});

test("top-k keeps the k most probable tokens (ties with the k-th too, as transformers), then top-p applies to them renormalised", () => {
  const r = samplingRng(3, 0);
  const seen = (options: { topK: number; topP: number }) => [...new Set(Array.from({ length: 600 }, () => sampleToken(logits, { temperature: 1, ...options }, r)))].sort();
  // Tokens by probability: 1 = 3 (tied), 4, 0, 5, 2.
  assert.equal(seen({ topK: 3, topP: 1 }), [1, 3, 4]);
  assert.equal(seen({ topK: 1, topP: 1 }), [1, 3], "the token tied with the first is kept");
  assert.equal(seen({ topK: 0, topP: 1 }), [0, 1, 2, 3, 4, 5]);
  // Within the top 3 (0.42, 0.42, 0.16 renormalised), p = 0.8 needs only tokens 1 and 3.
  assert.equal(seen({ topK: 3, topP: 0.8 }), [1, 3]);
  assert.equal(seen({ topK: 3, topP: 0.9 }), [1, 3, 4]);
});

test.run();
