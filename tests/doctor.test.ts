import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { peftc } from "./helpers/cli.js";
import { testDevice } from "./helpers/gpu.js";

test("doctor reports the adapter, its features and the limits we use", () => {
  const result = peftc(["doctor", "--json"]);
  assert.is(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.type(report.adapter.vendor, "string");
  assert.ok(Array.isArray(report.features));
  assert.ok(report.limits.maxStorageBufferBindingSize >= 128 * 1024 * 1024);
  assert.ok(report.limits.maxStorageBuffersPerShaderStage >= 8);
  assert.ok(report.limits.maxComputeWorkgroupStorageSize >= 16384);
});

test("a reader that closes early (doctor | head -1) ends doctor quietly with its own exit code", () => {
  const bin = fileURLToPath(new URL("../bin/peftc.js", import.meta.url));
  // The shell's pipefail makes the pipeline's status doctor's own: EPIPE must not turn it into a crash.
  const result = spawnSync("bash", ["-o", "pipefail", "-c", `"${process.execPath}" "${bin}" doctor | head -1`], {
    encoding: "utf8",
    timeout: 300_000,
  });
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stdout.trim().split("\n").length, 1);
  assert.not.match(result.stderr, /EPIPE|Unhandled/);
});

test("the shared device runs a compute shader on random inputs", async () => {
  const { device } = await testDevice();
  const n = 1000;
  const a = Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
  const b = Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const make = (data: Float32Array) => {
    const buffer = device.createBuffer({ size: data.byteLength, usage });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const out = make(new Float32Array(n).fill(Number.NaN));
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&c)) { c[id.x] = a[id.x] * b[id.x] + a[id.x]; }
}`,
  });
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [make(a), make(b), out].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const read = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(Math.ceil(n / 64));
  pass.end();
  encoder.copyBufferToBuffer(out, 0, read, 0, n * 4);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const got = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (let i = 0; i < n; i++) {
    const want = Math.fround(Math.fround(a[i]! * b[i]!) + a[i]!);
    assert.ok(Math.abs(got[i]! - want) <= 1e-6 * Math.max(1, Math.abs(want)), `element ${i}: ${got[i]} vs ${want}`);
  }
});

test.run();
