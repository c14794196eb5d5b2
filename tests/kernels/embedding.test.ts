import { test } from "uvu";
import { embeddingBackward, embeddingForward } from "../../compiler/codegen/embedding.js";
import { embeddingBackward as refBackward, embeddingForward as refForward } from "../reference/embedding.js";
import { assertClose, f64, kernelRuntime, randomF32, randomInt, runSteps } from "../helpers/kernels.js";

// The gather copies exactly; the scatter adds a handful of f32 terms per element.
const GATHER = 0;
const SCATTER = 1e-6;

/** A [rows, cols] matrix as [cols, rows]. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}

async function check(tokens: number, vocab: number, D: number, ids = randomInt(tokens, 0, vocab)): Promise<void> {
  const { profile } = await kernelRuntime();
  // Transposed: the table stored [D, vocab] (a LoRA embedding's A), compared through the row-major reference.
  for (const transposed of [false, true]) {
    const shape = { tokens, vocab, D, transposed };
    const table = randomF32(vocab * D);
    const stored = transposed ? transpose(table, vocab, D) : table;
    const what = `embedding tokens=${tokens} vocab=${vocab} D=${D}${transposed ? " (table transposed)" : ""}`;
    const out = await runSteps({ ids, table: stored, out: { length: tokens * D } }, [{ instance: embeddingForward(shape, profile) }]);
    assertClose(out.out!, refForward(ids, f64(table), vocab, D), GATHER, `${what} gather`);

    const dout = randomF32(tokens * D);
    const dtable = randomF32(vocab * D);
    const plan = embeddingBackward(shape, profile);
    const grads = await runSteps({ ids, dout, dtable: transposed ? transpose(dtable, vocab, D) : dtable, links: { length: plan.scratch.links! } }, plan.steps);
    const got = transposed ? transpose(grads.dtable!, D, vocab) : grads.dtable!;
    assertClose(got, refBackward(ids, f64(dout), f64(dtable), vocab, D), SCATTER, `${what} scatter-add`);
  }
}

test("embedding gather and scatter-add backward, repeated ids", async () => {
  await check(37, 11, 24);
  await check(1, 5, 3);
  await check(100, 1000, 65);
  // Every token the same id: one chain of 50.
  await check(50, 7, 9, new Int32Array(50).fill(3));
});

test("embedding ids outside the table read zeros and receive no gradient", async () => {
  await check(6, 4, 8, Int32Array.from([0, -100, 3, 4, 1, -1]));
});

test.run();
