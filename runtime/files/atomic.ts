// Outputs appear whole or not at all: each is written under a temporary name
// in the same directory, flushed, then renamed over the final name.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = temporaryName(path);
  const fd = openSync(temporary, "w");
  try {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(temporary, path);
}

/**
 * Builds a directory under a temporary name and renames it into place, replacing
 * any directory already there only once the new one is complete.
 */
export function writeDirectoryAtomic(path: string, fill: (temporaryDir: string) => void): void {
  const temporary = temporaryName(path);
  mkdirSync(temporary, { recursive: true });
  try {
    fill(temporary);
  } catch (e) {
    rmSync(temporary, { recursive: true, force: true });
    throw e;
  }
  const previous = `${temporary}.old`;
  let moved = false;
  try {
    renameSync(path, previous);
    moved = true;
  } catch {
    // Nothing there yet.
  }
  renameSync(temporary, path);
  if (moved) rmSync(previous, { recursive: true, force: true });
}
