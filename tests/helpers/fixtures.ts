// Tiny models written once per test process into a temporary directory.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyModel, type FixtureKind, type FixtureOptions } from "../fixtures/models.js";

const root = mkdtempSync(join(tmpdir(), "peftc-models-"));
const made = new Map<string, string>();

/** The directory of a tiny model of this kind (made on first use). */
export function tinyModel(kind: FixtureKind, options: FixtureOptions = {}): string {
  const key = `${kind}-${JSON.stringify(options)}`;
  let dir = made.get(key);
  if (!dir) {
    dir = join(root, key.replace(/[^a-z0-9-]/gi, "_"));
    writeTinyModel(dir, kind, options);
    made.set(key, dir);
  }
  return dir;
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `peftc-${prefix}-`));
}
