// GEMM: C = alpha·op(A)·op(B) (+ s·U·op(L)) (+ bias) (activation) (+ C), batched.
// One template serves NN, NT and TN; the variant is the register-block shape,
// chosen per shape and device. See bench/NOTES.md for what was measured.
import { ceilDiv, renderKernel, type BindingDecl } from "./render.js";
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

/** Register blocks for CPU adapters, largest first: [rows, vec4 columns]. */
const CPU_TILES: [number, number][] = [
  [8, 4],
  [8, 2],
  [4, 2],
  [4, 1],
  [1, 1],
];

/** Workgroups a CPU adapter needs to keep its threads busy (lavapipe runs one workgroup per thread at a time). */
const CPU_MIN_WORKGROUPS = 8;
/** Invocations per CPU workgroup: two passes of lavapipe's 8 lanes. */
const CPU_WORKGROUP = 16;
/** From this many FMAs a 16×16 block's extra speed (~8%) pays for its ~3 s compile. */
const BIG_GEMM_FMAS = 2 ** 30;

/**
 * The register-block shape for a GEMM. Deterministic in (shape, device), and
 * a function of few properties of the shape, so that a step's many GEMMs share
 * a few pipelines (the sizes themselves are params, not part of the kernel).
 * On a CPU adapter one workgroup is one thread walking its invocations 8 lanes
 * at a time: big blocks (few loads per FMA) win as long as every thread gets
 * workgroups, and compile time grows fast with the block (lavapipe: 16×16
 * ≈ 2.5–4.7 s, 8×16 ≈ 1 s, 8×8 ≈ 0.5 s, bench/NOTES.md), so 16×16 is kept
 * for products big enough to amortise it. On a GPU, modest 4×4 blocks in
 * 16×16 workgroups keep occupancy up.
 */
export function chooseGemmTiling(shape: GemmShape, device: DeviceProfile): GemmChoice {
  const { M, N, K } = shape;
  if (device.kind === "gpu") {
    const tiling = { TM: 4, TNV: 1, WX: Math.min(16, pow2AtLeast(ceilDiv(N, 4))), WY: Math.min(16, pow2AtLeast(ceilDiv(M, 4))) };
    return { variant: "rb4x4", reason: "GPU adapter: 4×4 register blocks in up to 16×16 workgroups", tiling };
  }
  const batches = shape.batch?.count ?? 1;
  if (M * N * K * batches >= BIG_GEMM_FMAS) {
    return { variant: "rb16x16", reason: "CPU adapter: 16×16 register blocks for a product this big (fastest measured on lavapipe)", tiling: { TM: 16, TNV: 4, WX: 8, WY: 2 } };
  }
  for (const [TM, TNV] of CPU_TILES) {
    const last = TM === 1;
    // Rows or columns past the edge are computed and thrown away: a block taller than M (decoding's one row) or wider than N wastes that share.
    if ((TM > M || 4 * TNV > Math.max(4, N)) && !last) continue;
    const rowBlocks = ceilDiv(M, TM);
    const colBlocks = ceilDiv(N, 4 * TNV);
    const WX = Math.min(4, pow2AtLeast(colBlocks));
    const WY = Math.max(1, Math.min(CPU_WORKGROUP / WX, pow2AtLeast(rowBlocks)));
    const workgroups = ceilDiv(rowBlocks, WY) * ceilDiv(colBlocks, WX) * batches;
    if (workgroups >= CPU_MIN_WORKGROUPS || last) {
      const reason = TM === 8 && TNV === 4
        ? "CPU adapter: 8×16 register blocks, no workgroup memory (as fast as 16×16 at a step's shapes, a third of its compile time)"
        : `CPU adapter: ${M}×${N} is too small for bigger blocks to give ${CPU_MIN_WORKGROUPS} workgroups`;
      return { variant: `rb${TM}x${4 * TNV}`, reason, tiling: { TM, TNV, WX, WY } };
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
  // Every GEMM is batched along z (a single product is a batch of one, strides 0): one pipeline serves both.
  const count = shape.batch?.count ?? 1;
  const batch = count > 1
    ? { count, strideA: shape.batch!.strideA ?? M * K, strideB: shape.batch!.strideB ?? K * N, strideC: shape.batch!.strideC ?? M * N }
    : { count: 1, strideA: 0, strideB: 0, strideC: 0 };

  // vec4 access along a contiguous dimension only when every row starts on a vec4.
  const aVec = transA && TM % 4 === 0 && M % 4 === 0 && batch.strideA % 4 === 0;
  const bVec = !transB && N % 4 === 0 && batch.strideB % 4 === 0;
  const cVec = N % 4 === 0 && batch.strideC % 4 === 0;
  const base = (x: string) => `${x}Base + `;
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
    const aBase = "aBase / 4u + ";
    for (let q = 0; q < TM / 4; q++) loads.push(`let a4_${q} = a[${aBase}k * (M / 4u) + aCol${q}];`);
    for (const r of rows) loads.push(`let a${r} = a4_${r >> 2}[${r & 3}];`);
  } else {
    for (const r of rows) loads.push(`let a${r} = a[${base("a")}k * M + row${r}];`);
  }
  // B values, one vec4 per 4 columns of the block.
  for (let v = 0; v < TNV; v++) {
    const c = [0, 1, 2, 3].map((j) => 4 * v + j);
    if (bVec) {
      const bBase = "bBase / 4u + ";
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
    const { transL, scale } = shape.lora;
    const factor = scale / alpha;
    const ls: string[] = [];
    const ll: string[] = [];
    const lf: string[] = [];
    for (const r of rows) ls.push(`let uRow${r} = row${r} * R;`);
    for (const j of cols) ls.push(`let lCol${j} = min(n0 + ${j}u, N - 1u);`);
    const f = factor === 1 ? "" : " * params.loraFactor";
    for (const r of rows) ll.push(`let u${r} = u[uRow${r} + k]${f};`);
    for (let v = 0; v < TNV; v++) {
      const c = [0, 1, 2, 3].map((j) => 4 * v + j);
      const at = (j: number) => (transL ? `l[lCol${j} * R + k]` : `l[k * N + lCol${j}]`);
      ll.push(`let l${v} = vec4f(${c.map(at).join(", ")});`);
    }
    for (const r of rows) for (let v = 0; v < TNV; v++) lf.push(`acc${r}_${v} = fma(vec4f(u${r}), l${v}, acc${r}_${v});`);
    lora = { transL, setup: ls, loads: ll, fmas: lf };
  }

  // Epilogue and guarded stores.
  const stores: string[] = [];
  const cBase = "cBase + ";
  for (const r of rows) {
    for (let v = 0; v < TNV; v++) {
      let value = alpha === 1 ? `acc${r}_${v}` : `params.alpha * acc${r}_${v}`;
      if (shape.bias) {
        const bias = cVec
          ? `bias[min(n0 / 4u + ${v}u, N / 4u - 1u)]`
          : `vec4f(${[0, 1, 2, 3].map((j) => `bias[min(n0 + ${4 * v + j}u, N - 1u)]`).join(", ")})`;
        value = `${value} + ${bias}`;
      }
      if (activation !== "none") value = `${activation}(${value})`;
      const m = `m0 + ${r}u`;
      if (cVec) {
        const idx = `cBase / 4u + (${m}) * (N / 4u) + n0 / 4u + ${v}u`;
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
  // Sizes, strides and scales are params, not constants: one pipeline serves every shape with the same flags.
  const params: ParamField[] = [{ name: "M", type: "u32" }, { name: "N", type: "u32" }, { name: "K", type: "u32" }];
  const values: Record<string, number> = { M, N, K };
  {
    params.push({ name: "strideA", type: "u32" }, { name: "strideB", type: "u32" }, { name: "strideC", type: "u32" });
    Object.assign(values, { strideA: batch.strideA, strideB: batch.strideB, strideC: batch.strideC });
  }
  if (alpha !== 1) {
    params.push({ name: "alpha", type: "f32" });
    values.alpha = alpha;
  }
  if (shape.lora) {
    params.push({ name: "R", type: "u32" });
    values.R = shape.lora.R;
    const factor = shape.lora.scale / alpha;
    if (factor !== 1) {
      params.push({ name: "loraFactor", type: "f32" });
      values.loraFactor = factor;
    }
  }
  if (shape.dynamicM) delete values.M;
  bindings.push({ name: "params", access: "uniform" });
  const spec = {
    transA,
    transB,
    vec: { a: aVec, b: bVec, c: cVec },
    scaled: alpha !== 1,
    bias: shape.bias ?? false,
    activation,
    accumulate: shape.accumulate ?? false,
    lora: shape.lora ? { transL: shape.lora.transL, scaled: shape.lora.scale / alpha !== 1 } : undefined,
    bF16: shape.bF16 ?? false,
    tiling: choice.tiling,
  };
  const view = {
    ...spec,
    TM,
    TN,
    WX,
    WY,
    f16: shape.bF16 ?? false,
    activation: activation === "none" ? "" : activation,
    alphaText: alpha === 1 ? "" : "alpha·",
    loraScaleText: shape.lora ? "s·" : "",
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
    params,
  });
  return {
    kernel,
    dispatch: [ceilDiv(ceilDiv(N, TN), WX), ceilDiv(ceilDiv(M, TM), WY), batch.count],
    params: values,
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

