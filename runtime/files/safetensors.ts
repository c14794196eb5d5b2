// The safetensors format: an 8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the data. Planning
// reads headers only; weights are read tensor by tensor with positional reads,
// never a whole file at once. Every malformed file is a SafetensorsError that
// names the file (and the tensor, where there is one).
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { writeFileAtomic } from "./atomic.js";

export const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
} as const;

export type Dtype = keyof typeof DTYPE_BYTES;

/** Headers larger than this are refused (as the reference implementation does). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class SafetensorsError extends Error {
  constructor(readonly file: string, message: string, readonly tensor?: string) {
    super(`${file}: ${tensor ? `tensor '${tensor}': ` : ""}${message}`);
  }
}

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Absolute byte offset of the tensor's data in its file. */
  offset: number;
  byteLength: number;
  file: string;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A safetensors file whose header has been read and checked; data is read on demand. */
export class SafetensorsFile {
  private constructor(
    readonly path: string,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
    readonly size: number,
  ) {}

  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new SafetensorsError(path, code === "ENOENT" ? "no such file" : (e as Error).message);
    }
    try {
      return SafetensorsFile.parse(path, fd);
    } finally {
      closeSync(fd);
    }
  }

  private static parse(path: string, fd: number): SafetensorsFile {
    const size = fstatSync(fd).size;
    if (size < 8) throw new SafetensorsError(path, `truncated: ${size} bytes, too short to hold the 8-byte header length`);
    const lengthBytes = Buffer.alloc(8);
    readExactly(fd, lengthBytes, 0, path);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength > MAX_HEADER_BYTES) {
      throw new SafetensorsError(path, `header length ${headerLength} is over the ${MAX_HEADER_BYTES}-byte limit`);
    }
    if (8 + headerLength > size) {
      throw new SafetensorsError(path, `header length ${headerLength} runs past the end of the file (${size} bytes): truncated or not safetensors`);
    }
    const headerBytes = Buffer.alloc(headerLength);
    readExactly(fd, headerBytes, 8, path);
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
    } catch (e) {
      throw new SafetensorsError(path, `the header is not valid UTF-8 JSON (${(e as Error).message})`);
    }
    if (!header || typeof header !== "object" || Array.isArray(header)) {
      throw new SafetensorsError(path, "the header is not a JSON object");
    }
    const dataStart = 8 + headerLength;
    const dataLength = size - dataStart;
    const metadata: Record<string, string> = {};
    const tensors = new Map<string, TensorInfo>();
    for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
      if (name === "__metadata__") {
        if (!entry || typeof entry !== "object" || Array.isArray(entry)) throw new SafetensorsError(path, "__metadata__ is not an object");
        for (const [key, value] of Object.entries(entry)) {
          if (typeof value !== "string") throw new SafetensorsError(path, `__metadata__ value '${key}' is not a string`);
          metadata[key] = value;
        }
        continue;
      }
      tensors.set(name, checkEntry(path, name, entry, dataStart, dataLength));
    }
    checkLayout(path, [...tensors.values()], dataStart, dataLength);
    return new SafetensorsFile(path, tensors, metadata, size);
  }

  /** The raw bytes of one tensor, read at its offset. */
  readBytes(name: string): Uint8Array {
    const info = this.tensors.get(name);
    if (!info) throw new SafetensorsError(this.path, "not in this file", name);
    return readTensorBytes(info);
  }
}

function checkEntry(path: string, name: string, entry: unknown, dataStart: number, dataLength: number): TensorInfo {
  if (!entry || typeof entry !== "object") throw new SafetensorsError(path, "its header entry is not an object", name);
  const { dtype, shape, data_offsets: offsets } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) {
    throw new SafetensorsError(path, `unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPE_BYTES).join(", ")})`, name);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(path, `shape ${JSON.stringify(shape)} is not a list of non-negative integers`, name);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new SafetensorsError(path, `data_offsets ${JSON.stringify(offsets)} are not two non-negative integers`, name);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new SafetensorsError(path, `data_offsets [${begin}, ${end}] end before they begin`, name);
  const expected = elementCount(shape) * DTYPE_BYTES[dtype as Dtype];
  if (end - begin !== expected) {
    throw new SafetensorsError(path, `shape [${shape.join(", ")}] of ${dtype} needs ${expected} bytes but data_offsets hold ${end - begin}`, name);
  }
  if (end > dataLength) {
    throw new SafetensorsError(path, `data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes): the file is truncated`, name);
  }
  return { name, dtype: dtype as Dtype, shape: shape as number[], offset: dataStart + begin, byteLength: end - begin, file: path };
}

/** Tensors must not overlap, and (as the reference reader requires) must cover the data without gaps. */
function checkLayout(path: string, tensors: TensorInfo[], dataStart: number, dataLength: number): void {
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset || a.byteLength - b.byteLength);
  let end = dataStart;
  let previous: TensorInfo | undefined;
  for (const t of sorted) {
    if (t.offset < end) {
      throw new SafetensorsError(path, `its bytes overlap those of '${previous!.name}'`, t.name);
    }
    if (t.offset > end) {
      throw new SafetensorsError(path, `${t.offset - end} bytes before it belong to no tensor (offsets are not contiguous)`, t.name);
    }
    end = t.offset + t.byteLength;
    previous = t;
  }
  if (end !== dataStart + dataLength) {
    throw new SafetensorsError(path, `${dataStart + dataLength - end} bytes after the last tensor belong to no tensor`);
  }
}

function readExactly(fd: number, into: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new SafetensorsError(path, "unexpected end of file");
    done += n;
  }
}

// Reads larger than this go in pieces, so that a huge tensor never needs one giant syscall.
const CHUNK = 64 * 1024 * 1024;

export function readTensorBytes(info: TensorInfo): Uint8Array {
  const out = new Uint8Array(info.byteLength);
  let fd: number;
  try {
    fd = openSync(info.file, "r");
  } catch (e) {
    throw new SafetensorsError(info.file, (e as Error).message, info.name);
  }
  try {
    for (let done = 0; done < out.length; done += CHUNK) {
      readExactly(fd, out.subarray(done, Math.min(out.length, done + CHUNK)), info.offset + done, info.file);
    }
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(info.file, e.message.replace(`${info.file}: `, ""), info.name);
    throw e;
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Any supported dtype's bytes as float32 values. */
export function toFloat32(bytes: Uint8Array, dtype: Dtype): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  const out = new Float32Array(n);
  switch (dtype) {
    case "F32":
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case "F64":
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case "F16":
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case "BF16": {
      const word = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) word[i] = view.getUint16(i * 2, true) << 16;
      break;
    }
    case "I8":
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    case "U8":
    case "BOOL":
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i);
      break;
    case "I16":
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
      break;
    case "I32":
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case "I64":
      for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
  }
  return out;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → IEEE half, rounding to nearest even. */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** float → bfloat16, rounding to nearest even. */
export function floatToBfloat16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff)) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Float values in a dtype's bytes (little-endian). */
/** Typed arrays use the platform's byte order; safetensors is little-endian. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export function fromFloat32(values: ArrayLike<number>, dtype: Dtype): Uint8Array {
  // F32 from a Float32Array: its own bytes (copied), not an element-by-element rewrite.
  if (dtype === "F32" && LITTLE_ENDIAN) {
    const f32 = values instanceof Float32Array ? values.slice() : Float32Array.from(values);
    return new Uint8Array(f32.buffer);
  }
  const out = new Uint8Array(values.length * DTYPE_BYTES[dtype]);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    switch (dtype) {
      case "F32": view.setFloat32(i * 4, v, true); break;
      case "F64": view.setFloat64(i * 8, v, true); break;
      case "F16": view.setUint16(i * 2, floatToHalf(v), true); break;
      case "BF16": view.setUint16(i * 2, floatToBfloat16(v), true); break;
      case "I8": view.setInt8(i, v); break;
      case "U8": case "BOOL": view.setUint8(i, v); break;
      case "I16": view.setInt16(i * 2, v, true); break;
      case "I32": view.setInt32(i * 4, v, true); break;
      case "I64": view.setBigInt64(i * 8, BigInt(Math.trunc(v)), true); break;
    }
  }
  return out;
}

export interface TensorToWrite {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Little-endian bytes of exactly elementCount(shape) elements of dtype. */
  data: Uint8Array;
}

/** A tensor's name, dtype and shape: what a safetensors header records. */
export interface TensorHeader {
  name: string;
  dtype: Dtype;
  shape: number[];
}

/**
 * A safetensors header as Hugging Face writes it: compact JSON with
 * __metadata__ first, padded with spaces to a multiple of 8 bytes, tensors laid
 * out in name order. Returns the 8-byte length and header, and the tensors in
 * data order.
 */
export function safetensorsHeader(tensors: TensorHeader[], metadata: Record<string, string> = { format: "pt" }): { bytes: Uint8Array; order: TensorHeader[]; dataBytes: number } {
  const order = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of order) {
    if (t.name === "__metadata__") throw new Error("a tensor cannot be named __metadata__");
    const length = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let json = JSON.stringify(header);
  const padded = Math.ceil((Buffer.byteLength(json) + 8) / 8) * 8 - 8;
  json = json.padEnd(json.length + padded - Buffer.byteLength(json), " ");
  const headerBytes = Buffer.from(json, "utf8");
  const bytes = new Uint8Array(8 + headerBytes.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  bytes.set(headerBytes, 8);
  return { bytes, order, dataBytes: offset };
}

function checkedData(t: TensorHeader, data: Uint8Array): Uint8Array {
  const expected = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
  if (data.byteLength !== expected) {
    throw new Error(`tensor '${t.name}': ${data.byteLength} bytes for shape [${t.shape.join(", ")}] of ${t.dtype} (expected ${expected})`);
  }
  return data;
}

/** The bytes of a safetensors file as Hugging Face writes them (see safetensorsHeader). */
export function encodeSafetensors(tensors: TensorToWrite[], metadata: Record<string, string> = { format: "pt" }): Uint8Array {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const { bytes, order, dataBytes } = safetensorsHeader(tensors, metadata);
  const out = new Uint8Array(bytes.length + dataBytes);
  out.set(bytes, 0);
  let at = bytes.length;
  for (const t of order) {
    const data = checkedData(t, byName.get(t.name)!.data);
    out.set(data, at);
    at += data.byteLength;
  }
  return out;
}

/**
 * Writes a safetensors file tensor by tensor (`data` is asked for each in
 * turn), so a file larger than memory can be written. Not atomic by itself:
 * write into a temporary directory or name.
 */
export function writeSafetensorsStreaming(path: string, tensors: TensorHeader[], data: (t: TensorHeader) => Uint8Array, metadata: Record<string, string> = { format: "pt" }): void {
  const { bytes, order } = safetensorsHeader(tensors, metadata);
  const fd = openSync(path, "w");
  try {
    const write = (chunk: Uint8Array) => {
      let written = 0;
      while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written);
    };
    write(bytes);
    for (const t of order) write(checkedData(t, data(t)));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes a safetensors file atomically (temporary name, then rename). */
export function writeSafetensors(path: string, tensors: TensorToWrite[], metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
