// Atomic writers: a directory write replaces only an empty or peftc-marked
// directory, and what a killed writer left is cleaned up (or put back) on the
// next write.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeDirectoryAtomic, writeFileAtomic } from "../../runtime/files/atomic.js";
import { OUTPUT_MARKER, OutputError, readMarker } from "../../runtime/files/outputs.js";
import { scratchDir } from "../helpers/fixtures.js";

/** A pid that is not running (the highest pid Linux hands out is below 2^22). */
const DEAD_PID = 4_194_999;

test("a directory write marks its output, replaces its own kind, and refuses a user's directory or another kind", () => {
  const root = scratchDir("atomic");
  const out = join(root, "adapter");
  writeDirectoryAtomic(out, "adapter", (tmp) => writeFileSync(join(tmp, "a.txt"), "1"));
  assert.is(readMarker(out), "adapter");
  writeDirectoryAtomic(out, "adapter", (tmp) => writeFileSync(join(tmp, "a.txt"), "2"));
  assert.is(readFileSync(join(out, "a.txt"), "utf8"), "2");
  assert.throws(() => writeDirectoryAtomic(out, "model", () => {}), (e: unknown) => e instanceof OutputError && /holds an adapter peftc wrote, not a model/.test(e.message));
  const mine = join(root, "mine");
  mkdirSync(mine);
  writeFileSync(join(mine, "keep.txt"), "mine");
  assert.throws(() => writeDirectoryAtomic(mine, "model", () => {}), (e: unknown) => e instanceof OutputError);
  assert.is(readFileSync(join(mine, "keep.txt"), "utf8"), "mine");
  const empty = join(root, "empty");
  mkdirSync(empty);
  writeDirectoryAtomic(empty, "bundle", () => {});
  assert.ok(existsSync(join(empty, OUTPUT_MARKER)));
});

test("a failed fill leaves the previous directory and no temporary", () => {
  const root = scratchDir("atomic-fail");
  const out = join(root, "model");
  writeDirectoryAtomic(out, "model", (tmp) => writeFileSync(join(tmp, "w"), "old"));
  assert.throws(() => writeDirectoryAtomic(out, "model", (tmp) => {
    writeFileSync(join(tmp, "w"), "half");
    throw new Error("disk full");
  }), /disk full/);
  assert.is(readFileSync(join(out, "w"), "utf8"), "old");
});

test("a writer killed between its two renames: the next write puts the previous version back first, then replaces it", () => {
  const root = scratchDir("atomic-kill");
  const out = join(root, "adapter");
  // What a kill after `rename(out, old)` and before `rename(tmp, out)` leaves.
  const stale = join(root, `.adapter.${DEAD_PID}.1.tmp`);
  mkdirSync(stale);
  writeFileSync(join(stale, "w"), "half");
  mkdirSync(`${stale}.old`);
  writeFileSync(join(`${stale}.old`, "w"), "previous");
  writeFileSync(join(`${stale}.old`, OUTPUT_MARKER), JSON.stringify({ written_by: "peftc", kind: "adapter" }));
  writeFileAtomic(join(root, "other.txt"), "unrelated");
  assert.ok(existsSync(stale), "only the named output's temporaries are touched");
  writeDirectoryAtomic(out, "adapter", (tmp) => {
    // The previous version is back in place before the new one is built.
    assert.is(readFileSync(join(out, "w"), "utf8"), "previous");
    writeFileSync(join(tmp, "w"), "new");
  });
  assert.is(readFileSync(join(out, "w"), "utf8"), "new");
  assert.ok(!existsSync(stale) && !existsSync(`${stale}.old`));
});

test("a file write refuses to replace a directory", () => {
  const root = scratchDir("atomic-file");
  mkdirSync(join(root, "d"));
  assert.throws(() => writeFileAtomic(join(root, "d"), "x"), (e: unknown) => e instanceof OutputError);
});

test.run();
