import { test } from "uvu";
import { elementwise, type ElementwiseOp } from "../../compiler/codegen/elementwise.js";
import { scaleAlong } from "../../compiler/codegen/scale.js";
import * as ref from "../reference/elementwise.js";
import { assertClose, f64, kernelRuntime, randomF32, runSteps } from "../helpers/kernels.js";

// One or two roundings per element; transcendental functions in WGSL are not
// correctly rounded, hence the looser bound for GELU and SiLU.
const EXACT = 1e-6;
const TRANSCENDENTAL = 1e-5;
const LENGTHS = [1, 7, 64, 1001, 4096];

async function run(op: ElementwiseOp, n: number, inputs: Record<string, Float32Array>, outputs: string[]) {
  const { profile } = await kernelRuntime();
  const tensors: Record<string, Float32Array | { length: number }> = { ...inputs };
  for (const o of outputs) tensors[o] ??= { length: n };
  return runSteps(tensors, [{ instance: elementwise(op, n, profile) }]);
}

test("add, scale and accumulate", async () => {
  for (const n of LENGTHS) {
    const a = randomF32(n);
    const b = randomF32(n);
    const c = randomF32(n);
    let out = await run({ op: "add", alpha: 0.5, beta: -2 }, n, { a, b }, ["out"]);
    assertClose(out.out!, ref.add(f64(a), f64(b), 0.5, -2), EXACT, `add n=${n}`);
    out = await run({ op: "scale", alpha: 3 }, n, { a }, ["out"]);
    assertClose(out.out!, ref.scale(f64(a), 3), EXACT, `scale n=${n}`);
    out = await run({ op: "accumulate", alpha: 0.25 }, n, { a, out: c }, ["out"]);
    assertClose(out.out!, ref.add(f64(c), f64(a), 1, 0.25), EXACT, `accumulate n=${n}`);
  }
});

test("GELU (tanh form) forward and backward", async () => {
  for (const n of LENGTHS) {
    const a = randomF32(n, -6, 6);
    const dout = randomF32(n);
    let out = await run({ op: "gelu" }, n, { a }, ["out"]);
    assertClose(out.out!, ref.geluForward(f64(a)), TRANSCENDENTAL, `gelu n=${n}`);
    out = await run({ op: "gelu_backward" }, n, { a, dout }, ["out"]);
    assertClose(out.out!, ref.geluBackward(f64(a), f64(dout)), TRANSCENDENTAL, `gelu_backward n=${n}`);
    out = await run({ op: "gelu_backward_inplace" }, n, { a, dout }, []);
    assertClose(out.a!, ref.geluBackward(f64(a), f64(dout)), TRANSCENDENTAL, `gelu_backward_inplace n=${n}`);
  }
});

test("SiLU-gated MLP product forward and backward", async () => {
  for (const n of LENGTHS) {
    const gate = randomF32(n, -8, 8);
    const up = randomF32(n);
    const dout = randomF32(n);
    let out = await run({ op: "swiglu" }, n, { gate, up }, ["out"]);
    assertClose(out.out!, ref.swiglu(f64(gate), f64(up)), TRANSCENDENTAL, `swiglu n=${n}`);
    out = await run({ op: "swiglu_backward" }, n, { dout, gate, up }, ["dgate", "dup"]);
    const want = ref.swigluBackward(f64(dout), f64(gate), f64(up));
    assertClose(out.dgate!, want.dgate, TRANSCENDENTAL, `swiglu dgate n=${n}`);
    assertClose(out.dup!, want.dup, TRANSCENDENTAL, `swiglu dup n=${n}`);
    out = await run({ op: "swiglu_backward_inplace" }, n, { dout, gate, up }, []);
    assertClose(out.gate!, want.dgate, TRANSCENDENTAL, `swiglu in place: dgate n=${n}`);
    assertClose(out.up!, want.dup, TRANSCENDENTAL, `swiglu in place: dup n=${n}`);
  }
});

test("a matrix (or the left block of a wider one) scaled along its rows or columns, written or added", async () => {
  const { profile } = await kernelRuntime();
  for (const [rows, cols, ld] of [[1, 1, 1], [3, 5, 5], [7, 64, 70], [130, 33, 33]] as const) {
    for (const along of ["rows", "columns"] as const) {
      for (const accumulate of [false, true]) {
        const src = randomF32(rows * ld);
        const s = randomF32(along === "rows" ? rows : cols, -2, 2);
        const before = randomF32(rows * cols);
        const out = await runSteps({ src, s, out: accumulate ? before : { length: rows * cols } },
          [{ instance: scaleAlong({ rows, cols, ld, along, accumulate }, profile) }]);
        const want = ref.scaleAlong(f64(src), f64(s), rows, cols, ld, along, accumulate ? f64(before) : undefined);
        assertClose(out.out!, want, EXACT, `scale ${rows}×${cols} (ld ${ld}) along ${along}${accumulate ? ", accumulated" : ""}`);
      }
    }
  }
});

test.run();
