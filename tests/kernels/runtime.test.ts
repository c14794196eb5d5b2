import { test } from "uvu";
import * as assert from "uvu/assert";
import { chooseGemmTiling, gemm } from "../../compiler/codegen/gemm.js";
import { loraLinearForward } from "../../compiler/codegen/lora.js";
import type { KernelSource } from "../../compiler/codegen/types.js";
import { sizeClass } from "../../runtime/gpu/buffers.js";
import { fromFloat32, toFloat32 } from "../../runtime/files/safetensors.js";
import { KernelError } from "../../runtime/gpu/errors.js";
import { kernelRuntime, randomF32 } from "../helpers/kernels.js";

test("kernel keys are deterministic, dedupe identical specialisations and leave sizes to params", async () => {
  const { profile } = await kernelRuntime();
  const a = gemm({ M: 64, N: 48, K: 32, transB: true }, profile);
  const b = gemm({ transB: true, K: 32, N: 48, M: 64 }, profile);
  const otherK = gemm({ M: 64, N: 48, K: 33, transB: true }, profile);
  const withBias = gemm({ M: 64, N: 48, K: 32, transB: true, bias: true }, profile);
  assert.is(a.kernel.key, b.kernel.key);
  assert.is(a.kernel.wgsl, b.kernel.wgsl);
  // K is a param: the same pipeline, told a different size.
  assert.is(a.kernel.key, otherK.kernel.key);
  assert.equal([a.params?.K, otherK.params?.K], [32, 33]);
  assert.is.not(a.kernel.key, withBias.kernel.key);
  assert.match(a.kernel.key, /^gemm\.nt_rb\d+x\d+\.[0-9a-f]{12}$/);
  // Plans survive JSON unchanged.
  const plan = loraLinearForward({ tokens: 16, inFeatures: 32, outFeatures: 24, r: 4, scale: 2 }, profile);
  assert.equal(JSON.parse(JSON.stringify(plan)), plan);
});

test("GEMM variant choice is deterministic and explained", () => {
  const cpu = { kind: "cpu" as const, shaderF16: true, subgroups: true, maxWorkgroupStorage: 32768, maxInvocationsPerWorkgroup: 256 };
  const big = chooseGemmTiling({ M: 2048, N: 2048, K: 2048 }, cpu);
  assert.is(big.variant, "rb16x16");
  assert.ok(big.reason.length > 10);
  const small = chooseGemmTiling({ M: 3, N: 5, K: 7 }, cpu);
  assert.is.not(small.variant, "rb16x16");
  assert.equal(chooseGemmTiling({ M: 3, N: 5, K: 7 }, cpu), small);
  assert.is(chooseGemmTiling({ M: 2048, N: 2048, K: 2048 }, { ...cpu, kind: "gpu" }).variant, "rb4x4");
  // A training step's products: 8×16 blocks, and a LoRA down-projection (N = r) still spread over workgroups.
  assert.is(chooseGemmTiling({ M: 512, N: 688, K: 256 }, cpu).variant, "rb8x16");
  for (const shape of [{ M: 512, N: 8, K: 256 }, { M: 8, N: 256, K: 512 }, { M: 688, N: 8, K: 512 }]) {
    const { tiling } = chooseGemmTiling(shape, cpu);
    const workgroups = Math.ceil(Math.ceil(shape.M / tiling.TM) / tiling.WY) * Math.ceil(Math.ceil(shape.N / (4 * tiling.TNV)) / tiling.WX);
    assert.ok(workgroups >= 8, `${JSON.stringify(shape)}: ${workgroups} workgroups`);
  }
});

test("a WGSL error names the kernel key and its template", async () => {
  const rt = await kernelRuntime();
  const broken: KernelSource = {
    key: "broken.test.000000000000",
    family: "broken",
    template: "broken.wgsl.hbs",
    variant: "test",
    reason: "test",
    wgsl: "@compute @workgroup_size(1) fn main() { let x: f32 = undefined_thing; }",
    entryPoint: "main",
    workgroupSize: [1, 1, 1],
    bindings: [],
  };
  try {
    await rt.pipelines.get(broken);
    assert.unreachable("compiled a broken kernel");
  } catch (e) {
    assert.instance(e, KernelError);
    const message = (e as Error).message;
    assert.match(message, "broken.test.000000000000");
    assert.match(message, "compiler/codegen/templates/broken.wgsl.hbs");
    assert.match(message, "undefined_thing");
  }
});

test("buffer pool reuses by size class and reads back into a preallocated array", async () => {
  const { pool } = await kernelRuntime();
  assert.is(sizeClass(1), 256);
  assert.is(sizeClass(1000), 1024);
  assert.is(sizeClass(1025), 1280);
  const data = randomF32(300);
  const buffer = pool.upload(data);
  const into = new Float32Array(300);
  await pool.read(buffer, into);
  assert.equal([...into], [...data]);
  pool.release(buffer);
  const again = pool.acquire(1100);
  assert.is(again, buffer);
  pool.release(again);
});

test("dtype conversion: f16 and bf16 to f32 and back (the safetensors codec uploads use)", () => {
  const f16 = (v: Float32Array) => toFloat32(fromFloat32(v, "F16"), "F16");
  const bf16 = (v: Float32Array) => toFloat32(fromFloat32(v, "BF16"), "BF16");
  const values = Float32Array.from([0, -0, 1, -2.5, 65504, 6.1035156e-5, 5.9604645e-8, 0.1, 1e-9, 70000]);
  const back = f16(values);
  assert.equal([...back.slice(0, 6)], [0, -0, 1, -2.5, 65504, 6.103515625e-5]);
  assert.is(back[6], 2 ** -24);
  assert.ok(Math.abs(back[7]! - 0.1) < 1e-4);
  assert.is(back[8], 0);
  assert.is(back[9], Number.POSITIVE_INFINITY);
  const b = bf16(Float32Array.from([1, -3.140625, 1e30]));
  assert.equal([b[0], b[1]], [1, -3.140625]);
  assert.ok(Math.abs(b[2]! / 1e30 - 1) < 1 / 128);
});

test.run();
