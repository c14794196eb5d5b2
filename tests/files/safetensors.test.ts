// safetensors reading and writing, and every kind of malformed file.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { openCheckpoint, readFloat32, CheckpointError } from "../../runtime/files/checkpoint.js";
import {
  encodeSafetensors,
  floatToBfloat16,
  floatToHalf,
  fromFloat32,
  halfToFloat,
  SafetensorsError,
  SafetensorsFile,
  toFloat32,
  writeSafetensors,
} from "../../runtime/files/safetensors.js";

const dir = mkdtempSync(join(tmpdir(), "peftc-st-"));
let counter = 0;
function file(bytes: Uint8Array | string): string {
  const path = join(dir, `f${counter++}.safetensors`);
  writeFileSync(path, bytes);
  return path;
}

/** A file from a raw header object and a data length: for building broken files. */
function raw(header: unknown, dataBytes: number, headerLength?: number): Uint8Array {
  const json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  return out;
}

function random(n: number): number[] {
  return Array.from({ length: n }, () => (Math.random() * 2 - 1) * 10);
}

test("round-trips F32, F16, BF16, I8 and U8 tensors", () => {
  const a = random(12);
  const b = random(7);
  const c = random(5);
  const path = join(dir, "ok.safetensors");
  writeSafetensors(path, [
    { name: "w.f32", dtype: "F32", shape: [3, 4], data: fromFloat32(a, "F32") },
    { name: "w.f16", dtype: "F16", shape: [7], data: fromFloat32(b, "F16") },
    { name: "w.bf16", dtype: "BF16", shape: [5, 1], data: fromFloat32(c, "BF16") },
    { name: "i8", dtype: "I8", shape: [3], data: new Uint8Array([0xff, 1, 0x80]) },
    { name: "u8", dtype: "U8", shape: [2], data: new Uint8Array([200, 7]) },
  ]);
  const st = SafetensorsFile.open(path);
  assert.equal(st.metadata, { format: "pt" });
  assert.equal(st.tensors.get("w.f32")!.shape, [3, 4]);
  const f32 = toFloat32(st.readBytes("w.f32"), "F32");
  a.forEach((v, i) => assert.is(f32[i], Math.fround(v)));
  const f16 = toFloat32(st.readBytes("w.f16"), "F16");
  b.forEach((v, i) => assert.ok(Math.abs(f16[i]! - v) <= Math.abs(v) * 2 ** -11, `f16 ${v} -> ${f16[i]}`));
  const bf16 = toFloat32(st.readBytes("w.bf16"), "BF16");
  c.forEach((v, i) => assert.ok(Math.abs(bf16[i]! - v) <= Math.abs(v) * 2 ** -8, `bf16 ${v} -> ${bf16[i]}`));
  assert.equal([...toFloat32(st.readBytes("i8"), "I8")], [-1, 1, -128]);
  assert.equal([...toFloat32(st.readBytes("u8"), "U8")], [200, 7]);
});

test("the header is padded to 8 bytes and lists __metadata__ first, as Hugging Face writes it", () => {
  const bytes = encodeSafetensors([{ name: "b", dtype: "F32", shape: [1], data: fromFloat32([1], "F32") }, { name: "a", dtype: "F32", shape: [1], data: fromFloat32([2], "F32") }]);
  const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.is(length % 8, 0);
  const header = Buffer.from(bytes.subarray(8, 8 + length)).toString("utf8");
  assert.ok(header.startsWith('{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":'), header);
});

test("half and bfloat16 conversions round to nearest even and keep specials", () => {
  for (const v of [0, -0, 1, -2.5, 65504, 1e-7, 6.1e-5, 3.14159, Infinity, -Infinity]) {
    const h = halfToFloat(floatToHalf(v));
    if (Math.abs(v) > 65504) assert.is(h, v);
    else assert.ok(Math.abs(h - v) <= Math.max(Math.abs(v) * 2 ** -11, 2 ** -25), `${v} -> ${h}`);
  }
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(Number.NaN))));
  assert.is(floatToHalf(1 + 2 ** -11), 0x3c00); // halfway rounds to even (down)
  assert.is(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // halfway rounds to even (up)
  assert.is(floatToBfloat16(1), 0x3f80);
  assert.is(floatToBfloat16(1 + 2 ** -8), 0x3f80); // halfway, to even
  assert.ok(Number.isNaN(toFloat32(fromFloat32([Number.NaN], "BF16"), "BF16")[0]!));
});

const malformed: [string, () => Uint8Array, RegExp][] = [
  ["shorter than the length field", () => new Uint8Array([1, 2, 3]), /too short to hold the 8-byte header length/],
  ["header length past the end", () => raw({}, 0, 4096), /header length 4096 runs past the end of the file/],
  ["header over 100 MB", () => raw({}, 0, 200 * 1024 * 1024), /over the 104857600-byte limit/],
  ["header not JSON", () => raw("{not json", 0), /not valid UTF-8 JSON/],
  ["header not an object", () => raw("[1,2]", 0), /not a JSON object/],
  ["unknown dtype", () => raw({ w: { dtype: "F8_E9", shape: [1], data_offsets: [0, 1] } }, 1), /tensor 'w': unknown dtype "F8_E9"/],
  ["shape and size disagree", () => raw({ w: { dtype: "F32", shape: [2, 3], data_offsets: [0, 20] } }, 20), /tensor 'w': shape \[2, 3\] of F32 needs 24 bytes but data_offsets hold 20/],
  ["offsets out of range", () => raw({ w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, 8), /tensor 'w': data_offsets \[0, 16\] run past the end of the data \(8 bytes\)/],
  ["offsets reversed", () => raw({ w: { dtype: "F32", shape: [0], data_offsets: [8, 4] } }, 8), /tensor 'w': data_offsets \[8, 4\] end before they begin/],
  ["overlapping tensors", () => raw({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, 12), /tensor 'b': its bytes overlap those of 'a'/],
  ["a gap between tensors", () => raw({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, b: { dtype: "F32", shape: [1], data_offsets: [8, 12] } }, 12), /tensor 'b': 4 bytes before it/],
  ["negative shape", () => raw({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } }, 0), /shape \[-1\] is not a list of non-negative integers/],
  ["metadata not strings", () => raw({ __metadata__: { format: 1 } }, 0), /__metadata__ value 'format' is not a string/],
];

for (const [name, make, message] of malformed) {
  test(`malformed: ${name}`, () => {
    const path = file(make());
    try {
      SafetensorsFile.open(path);
      assert.unreachable("opened a malformed file");
    } catch (e) {
      assert.instance(e, SafetensorsError);
      assert.ok((e as Error).message.startsWith(`${path}: `), (e as Error).message);
      assert.match((e as Error).message, message);
    }
  });
}

test("malformed: a truncated file names the tensor that runs past the end", () => {
  const good = encodeSafetensors([
    { name: "a", dtype: "F32", shape: [4], data: fromFloat32(random(4), "F32") },
    { name: "b", dtype: "F32", shape: [4], data: fromFloat32(random(4), "F32") },
  ]);
  const path = file(good.subarray(0, good.length - 5));
  assert.throws(() => SafetensorsFile.open(path), (e: Error) => /tensor 'b': data_offsets \[16, 32\] run past the end of the data .* truncated/.test(e.message));
});

test("a missing file is a clear error", () => {
  assert.throws(() => SafetensorsFile.open(join(dir, "nope.safetensors")), /nope\.safetensors: no such file/);
});

test("sharded checkpoints read through model.safetensors.index.json", () => {
  const shardDir = mkdtempSync(join(tmpdir(), "peftc-shards-"));
  const a = random(6);
  writeSafetensors(join(shardDir, "model-00001-of-00002.safetensors"), [{ name: "x", dtype: "F32", shape: [6], data: fromFloat32(a, "F32") }]);
  writeSafetensors(join(shardDir, "model-00002-of-00002.safetensors"), [{ name: "y", dtype: "BF16", shape: [2], data: fromFloat32([1, 2], "BF16") }]);
  writeFileSync(join(shardDir, "model.safetensors.index.json"), JSON.stringify({
    metadata: { total_size: 28 },
    weight_map: { x: "model-00001-of-00002.safetensors", y: "model-00002-of-00002.safetensors" },
  }));
  const checkpoint = openCheckpoint(shardDir);
  assert.equal([...checkpoint.tensors.keys()].sort(), ["x", "y"]);
  assert.equal([...readFloat32(checkpoint, "y")], [1, 2]);
  assert.equal([...readFloat32(checkpoint, "x")], a.map(Math.fround));

  writeFileSync(join(shardDir, "model.safetensors.index.json"), JSON.stringify({ weight_map: { x: "model-00003-of-00002.safetensors" } }));
  assert.throws(() => openCheckpoint(shardDir), (e: Error) => e instanceof CheckpointError && /shard model-00003-of-00002\.safetensors \(holding 'x'\) is missing/.test(e.message));
  writeFileSync(join(shardDir, "model.safetensors.index.json"), JSON.stringify({ weight_map: { z: "model-00001-of-00002.safetensors" } }));
  assert.throws(() => openCheckpoint(shardDir), /'z' is mapped to model-00001-of-00002\.safetensors, which does not contain it/);
  writeFileSync(join(shardDir, "model.safetensors.index.json"), "{");
  assert.throws(() => openCheckpoint(shardDir), /model\.safetensors\.index\.json: not valid JSON/);
});

test("a directory without weights says what it found", () => {
  const empty = mkdtempSync(join(tmpdir(), "peftc-empty-"));
  writeFileSync(join(empty, "pytorch_model.bin"), "x");
  assert.throws(() => openCheckpoint(empty), /no model\.safetensors or model\.safetensors\.index\.json \(pytorch_model\.bin is a PyTorch pickle/);
  assert.throws(() => openCheckpoint(join(empty, "missing")), /no such directory/);
});

test.run();
