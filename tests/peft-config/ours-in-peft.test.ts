// Adapters trained and saved by peftc, loaded by Hugging Face PEFT
// (tests/golden/make_ours.py checked that every saved tensor landed in its PEFT
// parameter and recorded PEFT's logits): peftc's forward with the same files
// gives PEFT's logits, so both sides read the files the same way.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { worstDifference } from "../helpers/compare.js";
import { goldenDir, goldenForward, kindOfCase } from "../helpers/golden.js";

const ours = join(goldenDir, "ours");

for (const name of readdirSync(ours).sort()) {
  test(`peftc's ${name}, as PEFT loaded it, gives PEFT's logits here`, async () => {
    const run = await goldenForward(join(ours, name), kindOfCase(name));
    const { worst, scale } = worstDifference(run.logits, run.expected.read("logits.adapter"));
    assert.ok(worst / scale < 1e-4, `largest logit difference ${worst} (logits up to ${scale})`);
  });
}

test.run();
