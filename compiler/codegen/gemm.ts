// GEMM: C = alpha·op(A)·op(B) (+ s·U·op(L)) (+ bias) (activation) (+ C), batched.
// One template serves NN, NT and TN; the variant is the register-block shape,
// chosen per shape and device. See bench/NOTES.md for what was measured.
import { ceilDiv, renderKernel, wgslF32, type BindingDecl } from "./render.js";
import { gemv, GEMV_MAX_ROWS } from "./gemv.js";
import type { DeviceProfile, KernelInstance, ParamField } from "./types.js";

export type Activation = "none" | "relu" | "gelu" | "silu";

export interface GemmShape {
  M: number;
  N: number;
  K: number;
  /** A is stored [K, M] and used transposed. */
  transA?: boolean;
  /** B is stored [N, K] and used transposed (x·Wᵀ with W as Hugging Face stores it). */
  transB?: boolean;
  /** Batches along dispatch z; strides in elements, 0 broadcasts an operand. */
  batch?: { count: number; strideA?: number; strideB?: number; strideC?: number };
  alpha?: number;
  bias?: boolean;
  activation?: Activation;
  /** C += result instead of C = result (gradient accumulation). */
  accumulate?: boolean;
  /** A low-rank term continuing the same accumulators: + scale·U·op(L), U [M, R], L [R, N] or [N, R]. */
  lora?: { R: number; transL: boolean; scale: number };
  /** B stored as f16 and widened on load (needs shader-f16). */
  bF16?: boolean;
  /** M read from the params buffer at run time; the dispatch covers the compiled M. */
  dynamicM?: boolean;
}

export interface GemmTiling {
  /** Rows of C per invocation. */
  TM: number;
  /** vec4 columns of C per invocation (TN = 4·TNV). */
  TNV: number;
  WX: number;
  WY: number;
}

export interface GemmChoice {
  variant: string;
  reason: string;
  tiling: GemmTiling;
}

const CPU_TILES: [number, number][] = [
  [16, 4],
  [8, 4],
  [8, 2],
  [4, 2],
  [4, 1],
  [1, 1],
];

/**
 * The register-block shape for a GEMM. Deterministic in (shape, device).
 * On a CPU adapter one workgroup is one thread walking its invocations 8 lanes
 * at a time, so big blocks (few loads per FMA) win as long as there are enough
 * workgroups to keep every thread busy; on a GPU, modest 4×4 blocks in 16×16
 * workgroups keep occupancy up.
 */
export function chooseGemmTiling(shape: GemmShape, device: DeviceProfile): GemmChoice {
  const { M, N } = shape;
  if (device.kind === "gpu") {
    const tiling = { TM: 4, TNV: 1, WX: Math.min(16, pow2AtLeast(ceilDiv(N, 4))), WY: Math.min(16, pow2AtLeast(ceilDiv(M, 4))) };
    return { variant: "rb4x4", reason: "GPU adapter: 4×4 register blocks in up to 16×16 workgroups", tiling };
  }
  const workers = 8;
  for (const [TM, TNV] of CPU_TILES) {
    const last = TM === 1;
    // Rows past M are computed and thrown away: a block taller than M (decoding's one row) wastes that share of the work.
    if (TM > M && !last) continue;
    const blocks = ceilDiv(M, TM) * ceilDiv(N, 4 * TNV) * (shape.batch?.count ?? 1);
    // Enough blocks for every worker thread to get at least two invocations' worth.
    if (blocks >= workers * 4 || last) {
      const WX = Math.min(8, pow2AtLeast(ceilDiv(N, 4 * TNV)));
      const WY = Math.max(1, Math.min(Math.floor(32 / WX), pow2AtLeast(ceilDiv(M, TM))));
      const tiling = { TM, TNV, WX, WY };
      const reason =
        TM === 16
          ? "CPU adapter: 16×16 register blocks, no workgroup memory (fastest measured on lavapipe)"
          : `CPU adapter: ${M}×${N} is too small for 16×16 blocks to keep ${workers} threads busy`;
      return { variant: `rb${TM}x${4 * TNV}`, reason, tiling };
    }
  }
  throw new Error("unreachable");
}

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function gemm(shape: GemmShape, device: DeviceProfile, force?: GemmTiling): KernelInstance {
  // Decoding's few-row NT products on a CPU adapter: the vec4-along-K GEMV (gemv.ts).
  if (!force && device.kind === "cpu" && shape.M <= GEMV_MAX_ROWS && shape.transB && !shape.transA && (shape.batch?.count ?? 1) === 1
    && shape.K % 4 === 0 && !shape.bF16 && !shape.dynamicM && (shape.activation ?? "none") === "none") {
    return gemv({ M: shape.M, N: shape.N, K: shape.K, ...(shape.alpha !== undefined ? { alpha: shape.alpha } : {}), ...(shape.bias ? { bias: true } : {}),
      ...(shape.accumulate ? { accumulate: true } : {}), ...(shape.lora ? { lora: shape.lora } : {}) }, device);
  }
  const choice = force
    ? { variant: `rb${force.TM}x${4 * force.TNV}`, reason: "tiling fixed by the caller", tiling: force }
    : chooseGemmTiling(shape, device);
  const { TM, TNV, WX, WY } = choice.tiling;
  const TN = 4 * TNV;
  const { M, N, K } = shape;
  const transA = shape.transA ?? false;
  const transB = shape.transB ?? false;
  const alpha = shape.alpha ?? 1;
  const activation = shape.activation ?? "none";
  if (shape.bF16 && !device.shaderF16) throw new Error("gemm: an f16 operand needs the shader-f16 feature");
  if (shape.lora && alpha === 0) throw new Error("gemm: a LoRA term needs a non-zero alpha");
  const batched = shape.batch !== undefined && shape.batch.count > 1;
  const batch = batched
    ? {
        count: shape.batch!.count,
        strideA: shape.batch!.strideA ?? M * K,
        strideB: shape.batch!.strideB ?? K * N,
        strideC: shape.batch!.strideC ?? M * N,
      }
    : undefined;

  // vec4 access along a contiguous dimension only when every row starts on a vec4.
  const aVec = transA && TM % 4 === 0 && M % 4 === 0 && (!batch || batch.strideA % 4 === 0);
  const bVec = !transB && N % 4 === 0 && (!batch || batch.strideB % 4 === 0);
  const cVec = N % 4 === 0 && (!batch || batch.strideC % 4 === 0);
  const Mx = shape.dynamicM ? "M" : `${M}u`;
  const base = (x: string) => (batched ? `${x}Base + ` : "");
  const bScalar = shape.bF16 ? "f16" : "f32";
  const vec4 = shape.bF16 ? "vec4h" : "vec4f";
  const widen = (e: string) => (shape.bF16 ? `vec4f(${e})` : e);

  const setup: string[] = [];
  const loads: string[] = [];
  const fmas: string[] = [];
  const rows = range(TM);
  const cols = range(TN);

  // Clamped row and column indices: loads from them are always in bounds.
  for (const r of rows) setup.push(`let row${r} = min(m0 + ${r}u, M - 1u);`);
  if (!transA) for (const r of rows) setup.push(`let aRow${r} = ${base("a")}row${r} * K;`);
  if (transA && aVec) for (let q = 0; q < TM / 4; q++) setup.push(`let aCol${q} = min(m0 / 4u + ${q}u, M / 4u - 1u);`);
  if (bVec) for (let v = 0; v < TNV; v++) setup.push(`let bCol${v} = min(n0 / 4u + ${v}u, N / 4u - 1u);`);
  else for (const j of cols) setup.push(`let col${j} = min(n0 + ${j}u, N - 1u);`);
  if (transB) for (const j of cols) setup.push(`let bRow${j} = ${base("b")}col${j} * K;`);

  // A values, one scalar per row of the block.
  if (!transA) {
    for (const r of rows) loads.push(`let a${r} = a[aRow${r} + k];`);
  } else if (aVec) {
    const aBase = batched ? "aBase / 4u + " : "";
    for (let q = 0; q < TM / 4; q++) loads.push(`let a4_${q} = a[${aBase}k * (M / 4u) + aCol${q}];`);
    for (const r of rows) loads.push(`let a${r} = a4_${r >> 2}[${r & 3}];`);
  } else {
    for (const r of rows) loads.push(`let a${r} = a[${base("a")}k * M + row${r}];`);
  }
  // B values, one vec4 per 4 columns of the block.
  for (let v = 0; v < TNV; v++) {
    const c = [0, 1, 2, 3].map((j) => 4 * v + j);
    if (bVec) {
      const bBase = batched ? "bBase / 4u + " : "";
      loads.push(`let b${v} = ${widen(`b[${bBase}k * (N / 4u) + bCol${v}]`)};`);
    } else if (transB) {
      loads.push(`let b${v} = ${widen(`${vec4}(${c.map((j) => `b[bRow${j} + k]`).join(", ")})`)};`);
    } else {
      loads.push(`let b${v} = ${widen(`${vec4}(${c.map((j) => `b[${base("b")}k * N + col${j}]`).join(", ")})`)};`);
    }
  }
  const accumulators: string[] = [];
  for (const r of rows) {
    for (let v = 0; v < TNV; v++) {
      accumulators.push(`${r}_${v}`);
      fmas.push(`acc${r}_${v} = fma(vec4f(a${r}), b${v}, acc${r}_${v});`);
    }
  }

  let lora: Record<string, unknown> | undefined;
  if (shape.lora) {
    const { R, transL, scale } = shape.lora;
    const factor = scale / alpha;
    const ls: string[] = [];
    const ll: string[] = [];
    const lf: string[] = [];
    for (const r of rows) ls.push(`let uRow${r} = row${r} * R;`);
    for (const j of cols) ls.push(`let lCol${j} = min(n0 + ${j}u, N - 1u);`);
    const f = factor === 1 ? "" : ` * ${wgslF32(factor)}`;
    for (const r of rows) ll.push(`let u${r} = u[uRow${r} + k]${f};`);
    for (let v = 0; v < TNV; v++) {
      const c = [0, 1, 2, 3].map((j) => 4 * v + j);
      const at = (j: number) => (transL ? `l[lCol${j} * R + k]` : `l[k * N + lCol${j}]`);
      ll.push(`let l${v} = vec4f(${c.map(at).join(", ")});`);
    }
    for (const r of rows) for (let v = 0; v < TNV; v++) lf.push(`acc${r}_${v} = fma(vec4f(u${r}), l${v}, acc${r}_${v});`);
    lora = { R, transL, setup: ls, loads: ll, fmas: lf };
  }

  // Epilogue and guarded stores.
  const stores: string[] = [];
  const cBase = batched ? "cBase + " : "";
  for (const r of rows) {
    for (let v = 0; v < TNV; v++) {
      let value = alpha === 1 ? `acc${r}_${v}` : `${wgslF32(alpha)} * acc${r}_${v}`;
      if (shape.bias) {
        const bias = cVec
          ? `bias[min(n0 / 4u + ${v}u, N / 4u - 1u)]`
          : `vec4f(${[0, 1, 2, 3].map((j) => `bias[min(n0 + ${4 * v + j}u, N - 1u)]`).join(", ")})`;
        value = `${value} + ${bias}`;
      }
      if (activation !== "none") value = `${activation}(${value})`;
      const m = `m0 + ${r}u`;
      if (cVec) {
        const idx = batched ? `cBase / 4u + (${m}) * (N / 4u) + n0 / 4u + ${v}u` : `(${m}) * (N / 4u) + n0 / 4u + ${v}u`;
        const guard = `${m} < M && n0 + ${4 * v}u < N`;
        const write = shape.accumulate ? `c[${idx}] += ${value};` : `c[${idx}] = ${value};`;
        stores.push(`if (${guard}) { ${write} }`);
      } else {
        stores.push(`if (${m} < M) {`);
        stores.push(`  let v${r}_${v} = ${value};`);
        for (let j = 0; j < 4; j++) {
          const n = `n0 + ${4 * v + j}u`;
          const op = shape.accumulate ? "+=" : "=";
          stores.push(`  if (${n} < N) { c[${cBase}(${m}) * N + ${n}] ${op} v${r}_${v}[${j}]; }`);
        }
        stores.push(`}`);
      }
    }
  }

  const bindings: BindingDecl[] = [
    { name: "a", access: "read", type: aVec ? "vec4f" : "f32" },
    { name: "b", access: "read", type: bVec ? `vec4<${bScalar}>` : bScalar },
  ];
  if (shape.bias) bindings.push({ name: "bias", access: "read", type: cVec ? "vec4f" : "f32" });
  if (shape.lora) bindings.push({ name: "u", access: "read", type: "f32" }, { name: "l", access: "read", type: "f32" });
  bindings.push({ name: "c", access: "read_write", type: cVec ? "vec4f" : "f32" });
  const params: ParamField[] | undefined = shape.dynamicM ? [{ name: "M", type: "u32" }] : undefined;
  if (params) bindings.push({ name: "params", access: "uniform" });
  const spec = {
    M: shape.dynamicM ? "dynamic" : M,
    N,
    K,
    transA,
    transB,
    batch,
    alpha,
    bias: shape.bias ?? false,
    activation,
    accumulate: shape.accumulate ?? false,
    lora: shape.lora,
    bF16: shape.bF16 ?? false,
    tiling: choice.tiling,
  };
  const view = {
    ...spec,
    M: Mx.replace(/u$/, ""),
    dynamicM: shape.dynamicM ?? false,
    TM,
    TN,
    WX,
    WY,
    batched,
    f16: shape.bF16 ?? false,
    activation: activation === "none" ? "" : activation,
    alphaText: alpha === 1 ? "" : `${wgslF32(alpha)}·`,
    loraScaleText: shape.lora ? `${wgslF32(shape.lora.scale)}·` : "",
    setup,
    loads,
    fmas,
    accumulators,
    lora,
    stores,
  };
  const kernel = renderKernel({
    family: "gemm",
    template: "gemm.wgsl.hbs",
    variant: `${transA ? "t" : "n"}${transB ? "t" : "n"}_${choice.variant}`,
    reason: choice.reason,
    spec,
    view,
    workgroupSize: [WX, WY, 1],
    bindings,
    ...(params ? { params } : {}),
  });
  const instance: KernelInstance = {
    kernel,
    dispatch: [ceilDiv(ceilDiv(N, TN), WX), ceilDiv(ceilDiv(M, TM), WY), batch?.count ?? 1],
  };
  if (shape.dynamicM) instance.params = {};
  return instance;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

