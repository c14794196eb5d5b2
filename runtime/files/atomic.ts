// Outputs appear whole or not at all: each is written under a temporary name
// in the same directory, flushed, then renamed over the final name. A
// directory is replaced only when it is empty or peftc wrote it (outputs.ts),
// and every directory written here carries peftc's marker.
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { checkReplaceable, OutputError, writeMarker, type DirectoryKind } from "./outputs.js";

const TEMPORARY = /^\.(.+)\.(\d+)\.(\d+)\.tmp(\.old)?$/;

function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Temporaries a killed writer left beside `path`: half-written ones are
 * removed, and a previous version moved aside just before the kill is put back
 * when nothing replaced it.
 */
function recoverInterrupted(path: string): void {
  const dir = dirname(path);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const match = TEMPORARY.exec(entry);
    if (!match || match[1] !== basename(path) || alive(Number(match[2]))) continue;
    const temporary = join(dir, entry);
    if (match[4] && !existsSync(path)) renameSync(temporary, path);
    else rmSync(temporary, { recursive: true, force: true });
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path) && !lstatSync(path).isFile() && !lstatSync(path).isSymbolicLink()) throw new OutputError(`${path} exists and is not a regular file: it is not replaced`);
  recoverInterrupted(path);
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
 * a directory already there (empty, or peftc's own of the same kind) only once
 * the new one is complete.
 */
export function writeDirectoryAtomic(path: string, kind: DirectoryKind, fill: (temporaryDir: string) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  recoverInterrupted(path);
  if (existsSync(path)) {
    if (!lstatSync(path).isDirectory()) throw new OutputError(`${path} exists and is not a directory: it is not replaced`);
    checkReplaceable(path, kind);
  }
  const temporary = temporaryName(path);
  mkdirSync(temporary);
  try {
    fill(temporary);
    writeMarker(temporary, kind);
  } catch (e) {
    rmSync(temporary, { recursive: true, force: true });
    throw e;
  }
  const previous = `${temporary}.old`;
  let moved = false;
  if (existsSync(path)) {
    renameSync(path, previous);
    moved = true;
  }
  renameSync(temporary, path);
  if (moved) rmSync(previous, { recursive: true, force: true });
}
