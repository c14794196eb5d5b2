import { test } from "uvu";
import * as assert from "uvu/assert";
import { gemm, type GemmShape, type GemmTiling } from "../../compiler/codegen/gemm.js";
import { gemmPlan } from "../../compiler/codegen/gemm_plan.js";
import { PORTABLE_GPU, type DeviceProfile } from "../../compiler/codegen/types.js";
import { fromFloat32, toFloat32 } from "../../runtime/files/safetensors.js";
import { gelu, relu, silu } from "../reference/activations.js";
import { addBias, matmul } from "../reference/gemm.js";
import { assertClose, f64, kernelRuntime, randomF32, runSteps, type TensorInit } from "../helpers/kernels.js";

// f32 products accumulated in f32: relative Frobenius error grows like
// sqrt(K)·2⁻²⁴; 1e-5 leaves a wide margin at these K.
const BOUND = 1e-5;

async function profile(): Promise<DeviceProfile> {
  return (await kernelRuntime()).profile;
}

async function check(shape: GemmShape, device?: DeviceProfile, force?: GemmTiling, asPlan = false): Promise<void> {
  const { M, N, K } = shape;
  const batches = shape.batch?.count ?? 1;
  const sa = shape.batch?.strideA ?? M * K;
  const sb = shape.batch?.strideB ?? K * N;
  const a = randomF32(sa * (batches - 1) + M * K);
  let b = randomF32(sb * (batches - 1) + K * N);
  let bUpload: Float32Array | Uint16Array = b;
  if (shape.bF16) {
    const halves = fromFloat32(b, "F16");
    bUpload = new Uint16Array(halves.buffer, halves.byteOffset, halves.byteLength / 2);
    b = toFloat32(halves, "F16");
  }
  const bias = randomF32(N);
  const c0 = randomF32(batches * M * N);
  const R = shape.lora?.R ?? 1;
  const u = randomF32(M * R);
  const l = randomF32(R * N);
  const plan = asPlan ? gemmPlan(shape, device ?? (await profile())) : undefined;
  const instance = plan ? plan.steps[plan.steps.length - 1]!.instance : gemm(shape, device ?? (await profile()), force);
  const tensors: Record<string, TensorInit> = {
    a,
    b: bUpload,
    bias,
    u,
    l,
    c: shape.accumulate ? c0 : { length: batches * M * N },
  };
  for (const [name, length] of Object.entries(plan?.scratch ?? {})) tensors[name] = { length };
  const params = shape.dynamicM ? { M } : undefined;
  const steps = plan ? plan.steps : [{ instance, ...(params ? { params } : {}) }];
  const out = await runSteps(tensors, steps);
  const want = new Float64Array(batches * M * N);
  for (let z = 0; z < batches; z++) {
    const az = f64(a.subarray(z * sa, z * sa + M * K));
    const bz = f64(b.subarray(z * sb, z * sb + K * N));
    let c = matmul(az, bz, M, N, K, shape.transA, shape.transB);
    c = c.map((v) => v * (shape.alpha ?? 1));
    if (shape.lora) {
      const low = matmul(f64(u), f64(l), M, N, R, false, shape.lora.transL);
      c = c.map((v, i) => v + shape.lora!.scale * low[i]!);
    }
    if (shape.bias) c = addBias(c, f64(bias), N);
    const act = { none: (x: number) => x, relu, gelu, silu }[shape.activation ?? "none"];
    c = c.map(act);
    if (shape.accumulate) c = c.map((v, i) => v + c0[z * M * N + i]!);
    want.set(c, z * M * N);
  }
  assertClose(out.c!, want, BOUND, `${instance.kernel.key} ${JSON.stringify(shape)}`);
}

// Small shapes get small register blocks; [130, 96, 200] gets the 16×16 one.
// Each distinct kernel costs lavapipe 0.5–3 s to compile on first use, so the
// list is short.
const SHAPES: [number, number, number][] = [
  [37, 53, 29],
  [1, 75, 33],
  [45, 1, 17],
  [19, 23, 1],
  [1, 1, 1],
  [130, 96, 200],
];

for (const [transA, transB] of [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const) {
  test(`gemm ${transA ? "T" : "N"}${transB ? "T" : "N"} at awkward shapes`, async () => {
    for (const [M, N, K] of SHAPES) await check({ M, N, K, transA, transB });
  });
}

test("gemm: every register-block tiling at a shape that fits none", async () => {
  const tilings: GemmTiling[] = [
    { TM: 16, TNV: 4, WX: 8, WY: 2 },
    { TM: 8, TNV: 2, WX: 4, WY: 4 },
    { TM: 4, TNV: 1, WX: 8, WY: 8 },
    { TM: 1, TNV: 1, WX: 16, WY: 4 },
  ];
  for (const force of tilings) {
    await check({ M: 75, N: 41, K: 23 }, undefined, force);
    await check({ M: 75, N: 44, K: 23, transA: true }, undefined, force);
  }
});

test("gemm: the portable GPU variant", async () => {
  await check({ M: 50, N: 36, K: 31 }, PORTABLE_GPU);
  await check({ M: 50, N: 37, K: 31, transB: true }, PORTABLE_GPU);
});

test("gemm: bias and activation epilogues, alpha, accumulate", async () => {
  await check({ M: 33, N: 40, K: 27, bias: true, activation: "gelu" });
  await check({ M: 33, N: 41, K: 27, bias: true, activation: "silu", transB: true });
  await check({ M: 5, N: 12, K: 9, bias: true, activation: "relu" });
  await check({ M: 29, N: 31, K: 18, alpha: 0.37, accumulate: true });
  await check({ M: 16, N: 32, K: 8, alpha: -2, accumulate: true, bias: true, transA: true });
});

test("gemm: batched, with a broadcast operand", async () => {
  await check({ M: 21, N: 30, K: 17, batch: { count: 3 } });
  await check({ M: 21, N: 32, K: 17, batch: { count: 4, strideB: 0 } });
  await check({ M: 12, N: 9, K: 5, batch: { count: 2, strideA: 0 }, transA: true, transB: true });
});

test("gemm: a LoRA term continuing the accumulators", async () => {
  await check({ M: 37, N: 44, K: 29, lora: { R: 4, transL: false, scale: 2 } });
  await check({ M: 37, N: 43, K: 29, transB: true, lora: { R: 3, transL: true, scale: 0.5 } });
  await check({ M: 1, N: 16, K: 1, alpha: 0.5, lora: { R: 1, transL: true, scale: 4 } });
});

test("gemm: f16 weights widened on load, and M from the params buffer", async () => {
  const device = await profile();
  if (device.shaderF16) {
    await check({ M: 30, N: 40, K: 21, bF16: true });
    await check({ M: 30, N: 41, K: 21, bF16: true, transB: true });
  }
  await check({ M: 26, N: 20, K: 13, dynamicM: true });
});

test("gemm plan: NT as transpose then NN on CPU adapters, direct elsewhere", async () => {
  const device = await profile();
  const plan = gemmPlan({ M: 130, N: 45, K: 37, transB: true }, device);
  assert.is(plan.steps.length, device.kind === "cpu" ? 2 : 1);
  assert.is(gemmPlan({ M: 3, N: 45, K: 37, transB: true }, device).steps.length, 1);
  await check({ M: 130, N: 45, K: 37, transB: true, bias: true }, undefined, undefined, true);
  await check({ M: 129, N: 40, K: 9, transB: true, batch: { count: 3 } }, undefined, undefined, true);
  await check({ M: 140, N: 20, K: 11, transB: true, batch: { count: 2, strideB: 0 }, lora: { R: 2, transL: true, scale: 3 } }, undefined, undefined, true);
});

test.run();
