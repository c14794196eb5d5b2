// The choice between materialising ΔW and the low-rank path: by FLOPs per
// call, deterministic, and the way the counts say for shapes far from the
// boundary.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { describeCost, lohaCost } from "../../../compiler/methods/loha/cost.js";

test("one token never materialises a 4096×4096 ΔW, in training or inference", () => {
  for (const training of [true, false]) assert.is(lohaCost(1, 4096, 4096, 8, training).path, "low-rank");
});

test("training a 7B-sized layer at rank 8 avoids the tokens·in·out dΔW GEMM", () => {
  const c = lohaCost(2048, 4096, 11008, 8, true);
  assert.is(c.path, "low-rank");
  // dΔW alone is 2·T·in·out: the materialised path costs more by at least that, minus the low-rank extras.
  assert.ok(c.materialised - c.lowRank > 2048 * 4096 * 11008);
});

test("a long batch at a high rank materialises ΔW (r² columns cost more than one out×in pass)", () => {
  assert.is(lohaCost(2048, 4096, 4096, 32, false).path, "materialised");
  assert.is(lohaCost(2048, 4096, 4096, 32, true).path, "materialised");
  assert.is(lohaCost(2048, 512, 512, 16, true).path, "materialised");
});

test("the choice is a function of the shape alone and the label states both counts", () => {
  const a = lohaCost(512, 64, 176, 4, true);
  assert.equal(lohaCost(512, 64, 176, 4, true), a);
  const label = describeCost(a);
  assert.ok(label.startsWith(a.path === "materialised" ? "materialised ΔW" : "low-rank"), label);
  assert.match(label, /MFLOP vs .* MFLOP/);
});

test.run();
