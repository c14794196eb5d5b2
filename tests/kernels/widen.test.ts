import { test } from "uvu";
import * as assert from "uvu/assert";
import { widen16, type Packed16 } from "../../compiler/codegen/widen.js";
import { kernelRuntime, randomInt, runSteps } from "../helpers/kernels.js";

// The reference decodes each 16-bit pattern by its fields in float64; the
// kernel must give exactly that value (widening is exact), subnormals included.
function decode(bits: number, dtype: Packed16): number {
  const sign = bits & 0x8000 ? -1 : 1;
  if (dtype === "bf16") {
    const e = (bits >> 7) & 0xff;
    const m = bits & 0x7f;
    return sign * (e === 0 ? m * 2 ** -133 : 2 ** (e - 127) * (1 + m / 128));
  }
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  return sign * (e === 0 ? m * 2 ** -24 : 2 ** (e - 15) * (1 + m / 1024));
}

/** Random finite 16-bit patterns (every exponent but the all-ones one), a few subnormals forced in. */
function randomHalves(n: number, dtype: Packed16): Uint16Array {
  const maxExponent = dtype === "bf16" ? 0xff : 0x1f;
  const shift = dtype === "bf16" ? 7 : 10;
  const raw = randomInt(n, 0, 0x10000);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    let bits = raw[i]!;
    if (((bits >> shift) & maxExponent) === maxExponent) bits ^= 1 << shift;
    if (i % 7 === 3) bits &= ~(maxExponent << shift) & 0xffff; // subnormal (or ±0)
    out[i] = bits;
  }
  return out;
}

const SHAPES: [number, number][] = [[1, 1], [1, 7], [3, 5], [64, 7], [33, 129], [128, 96]];

for (const dtype of ["bf16", "f16"] as const) {
  test(`${dtype} widened to f32, plain and transposed, exactly`, async () => {
    const { profile } = await kernelRuntime();
    for (const [rows, cols] of SHAPES) {
      const n = rows * cols;
      const halves = randomHalves(n, dtype);
      const words = new Uint32Array(Math.ceil(n / 2));
      new Uint16Array(words.buffer).set(halves);
      for (const transpose of [false, true]) {
        const out = await runSteps({ x: words, out: { length: n } }, [{ instance: widen16({ rows, cols, dtype, transpose }, profile) }]);
        const got = out.out!;
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) {
            const want = decode(halves[r * cols + c]!, dtype);
            const at = transpose ? c * rows + r : r * cols + c;
            if (!Object.is(got[at], want) && !(got[at] === 0 && want === 0)) {
              assert.unreachable(`${dtype} ${rows}×${cols}${transpose ? " transposed" : ""}: element (${r}, ${c}) bits 0x${halves[r * cols + c]!.toString(16)} gave ${got[at]}, want ${want}`);
            }
          }
        }
      }
    }
  });
}

test.run();
