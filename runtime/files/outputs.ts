// Where a command may write. Every output path is claimed here before any long
// work: it must not be, contain or lie inside one of the command's inputs
// (symlinks resolved), an existing directory is replaced only when it is empty
// or carries peftc's marker, an existing file only when peftc wrote it, and the
// parent must take a new file. The writers (atomic.ts) build every output
// under a temporary sibling and rename it into place.
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { UserError } from "../../compiler/errors.js";

/** A directory peftc wrote holds this file; a directory without it is the user's. */
export const OUTPUT_MARKER = ".peftc-output";

export type DirectoryKind = "bundle" | "model" | "adapter" | "run" | "checkpoint";
export type FileKind = "spec" | "svg";

/** The first bytes of each kind of file peftc writes, so that it replaces only its own. */
const FILE_SIGNATURES: Record<FileKind, string> = {
  spec: "# written by peftc",
  svg: "<!-- written by peftc -->",
};

export class OutputError extends UserError {}

export interface OutputInput {
  path: string;
  /** What it is, for the message: "the base model", "adapter 2". */
  what: string;
}

/** The line or comment a file of this kind starts with. */
export function fileSignature(kind: FileKind): string {
  return FILE_SIGNATURES[kind];
}

/**
 * Checks that `path` may receive a directory of this kind and returns it
 * absolute, with symlinks in its existing part resolved. `option` names the
 * argument in messages ("-o", "--out").
 */
export function claimDirectoryOutput(path: string, kind: DirectoryKind, inputs: OutputInput[], option = "-o"): string {
  const target = claim(path, inputs, option);
  const info = statOrUndefined(target);
  if (info && !info.isDirectory()) throw new OutputError(`${option} ${path}: ${target} exists and is not a directory`, "choose another path");
  if (info) checkReplaceable(target, kind, option, path);
  probeParent(target, option, path);
  return target;
}

/** As claimDirectoryOutput, for one file of a kind peftc writes. */
export function claimFileOutput(path: string, kind: FileKind, inputs: OutputInput[], option = "-o"): string {
  const target = claim(path, inputs, option);
  const info = statOrUndefined(target);
  if (info?.isDirectory()) throw new OutputError(`${option} ${path}: ${target} is a directory, not a file`, "name a file to write");
  if (info && !info.isFile()) throw new OutputError(`${option} ${path}: ${target} is not a regular file`, "name a file to write");
  if (info && !startsWith(target, FILE_SIGNATURES[kind])) {
    throw new OutputError(`${option} ${path}: ${target} exists and peftc did not write it: it is not replaced`, "remove it first, or choose another name");
  }
  probeParent(target, option, path);
  return target;
}

/**
 * Whether an existing directory may be replaced by a peftc directory of this
 * kind: it is empty, or peftc wrote it (as this kind). Used by claim and, as a
 * last guard, by every atomic directory write.
 */
export function checkReplaceable(dir: string, kind: DirectoryKind, option = "output", given = dir): void {
  const entries = readdirSync(dir);
  if (entries.length === 0) return;
  const marker = readMarker(dir);
  if (!marker) {
    throw new OutputError(`${option} ${given}: ${dir} holds files peftc did not write (${describeEntries(entries)}): it is not replaced`,
      "choose a new or empty directory, or remove this one first");
  }
  if (marker !== kind) {
    throw new OutputError(`${option} ${given}: ${dir} holds ${article(marker)} peftc wrote, not ${article(kind)}: it is not replaced`, "choose another directory");
  }
}

/** Writes the marker that says peftc wrote this directory, and as what. */
export function writeMarker(dir: string, kind: DirectoryKind): void {
  writeFileSync(join(dir, OUTPUT_MARKER), `${JSON.stringify({ written_by: "peftc", kind })}\n`);
}

/** The kind a directory's marker names, or undefined when it has none. */
export function readMarker(dir: string): DirectoryKind | undefined {
  const path = join(dir, OUTPUT_MARKER);
  try {
    if (!lstatSync(path).isFile()) return undefined;
    const text = readPrefix(path, 256);
    const parsed = JSON.parse(text) as { written_by?: unknown; kind?: unknown };
    return parsed.written_by === "peftc" && typeof parsed.kind === "string" ? (parsed.kind as DirectoryKind) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates a run directory (marked) when it does not exist yet. Returns whether
 * this call created it, so that a run that fails early can remove it again.
 */
export function createMarkedDirectory(dir: string, kind: DirectoryKind): boolean {
  if (existsSync(dir)) {
    checkReplaceable(dir, kind);
    if (!readMarker(dir)) writeMarker(dir, kind);
    return false;
  }
  mkdirSync(dir, { recursive: true });
  writeMarker(dir, kind);
  return true;
}

/** Removes a directory this run created, when nothing in it needs keeping. */
export function removeCreatedDirectory(dir: string, keep: (dir: string) => boolean): void {
  if (!existsSync(dir) || keep(dir)) return;
  if (readMarker(dir)) rmSync(dir, { recursive: true, force: true });
}

function claim(path: string, inputs: OutputInput[], option: string): string {
  if (path.trim() === "") throw new OutputError(`${option}: an empty path`);
  const target = realOutputPath(resolve(path));
  for (const input of inputs) {
    for (const real of realPathsOf(input.path)) {
      if (real === target) throw new OutputError(`${option} ${path} is ${input.what} (${input.path}): peftc never writes over its inputs`, "write the output somewhere else");
      if (within(target, real)) throw new OutputError(`${option} ${path} lies inside ${input.what} (${input.path}): peftc never writes into its inputs`, "write the output somewhere else");
      if (within(real, target)) throw new OutputError(`${option} ${path} holds ${input.what} (${input.path}): writing it would replace that input`, "write the output somewhere else");
    }
  }
  return target;
}

/** The path with the symlinks of its existing part resolved (the rest does not exist yet). */
function realOutputPath(absolute: string): string {
  let existing = absolute;
  const rest: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(existing), ...rest);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ELOOP") throw new OutputError(`${absolute}: a symbolic link loop`);
      const parent = dirname(existing);
      if (parent === existing) return absolute;
      // A dangling symlink: it would be written through, to wherever it points.
      if (isDanglingLink(existing)) throw new OutputError(`${absolute}: ${existing} is a symbolic link to nothing`, "remove the link, or choose another path");
      rest.unshift(basename(existing));
      existing = parent;
    }
  }
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** An input's real path and, for a directory, its entries' (a model's files may be links into a cache). */
function realPathsOf(path: string): string[] {
  let real: string;
  try {
    real = realpathSync(resolve(path));
  } catch {
    return [];
  }
  const paths = [real];
  if (!statOrUndefined(real)?.isDirectory()) return paths;
  let entries: string[] = [];
  try {
    entries = readdirSync(real);
  } catch {
    return paths;
  }
  for (const entry of entries.slice(0, 10_000)) {
    try {
      const linked = realpathSync(join(real, entry));
      if (!within(linked, real)) paths.push(linked);
    } catch {
      // A dangling entry points at nothing an output could overwrite.
    }
  }
  return paths;
}

/** Whether `inner` is strictly inside `outer`. */
function within(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The nearest existing ancestor is a directory that takes a new file: found
 * now, not after an hour of training. Nothing is left behind, not even the
 * parents the output will need.
 */
function probeParent(target: string, option: string, given: string): void {
  let parent = dirname(target);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  try {
    if (!statSync(parent).isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    const probe = join(parent, `.${basename(target)}.${process.pid}.probe`);
    writeFileSync(probe, "");
    rmSync(probe, { force: true });
  } catch (e) {
    throw new OutputError(`${option} ${given}: cannot write in ${parent}: ${describeErrno(e)}`, "choose a directory you can write to");
  }
}

function readPrefix(path: string, bytes: number): string {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(bytes);
    const n = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function startsWith(path: string, signature: string): boolean {
  try {
    return readPrefix(path, signature.length) === signature;
  } catch {
    return false;
  }
}

function article(kind: string): string {
  return `${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind}`;
}

function describeEntries(entries: string[]): string {
  const shown = entries.sort().slice(0, 3).join(", ");
  return entries.length > 3 ? `${shown} and ${entries.length - 3} more` : shown;
}

const ERRNO_TEXT: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "is a directory",
  ENOENT: "no such file or directory",
  EEXIST: "already exists",
  ENOTEMPTY: "directory not empty",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "name too long",
  EMFILE: "too many open files",
  EIO: "input/output error",
  EXDEV: "crosses file systems",
  EBUSY: "resource busy",
  ETXTBSY: "file busy",
  EINVAL: "invalid argument",
};

/** A file-system error in words ("permission denied"), or its message. */
export function describeErrno(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && ERRNO_TEXT[code]) return ERRNO_TEXT[code]!;
  return e instanceof Error ? e.message : String(e);
}

/**
 * A Node file-system error (it has an errno code and a syscall) as a sentence,
 * or undefined for any other error: what the command line prints instead of
 * "internal error" when the disk, not peftc, refused.
 */
export function fileSystemErrorMessage(e: unknown): string | undefined {
  const error = e as NodeJS.ErrnoException & { dest?: string };
  if (!(e instanceof Error) || typeof error.code !== "string" || typeof error.syscall !== "string" || !ERRNO_TEXT[error.code]) return undefined;
  const where = error.path ? ` ${error.path}${error.dest ? ` → ${error.dest}` : ""}` : "";
  return `cannot ${error.syscall}${where}: ${ERRNO_TEXT[error.code]}`;
}
