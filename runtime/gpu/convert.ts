// Dtype conversion for weights read from safetensors. Conversion to f32
// happens on the CPU during upload (a shift for BF16, a table for F16): it
// runs at memory speed and keeps the kernels f32-only. F16 stays F16 when a
// kernel reads it natively (shader-f16), halving the upload and the buffer.

export type StorageDtype = "F32" | "F16" | "BF16";

const f16Table = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) table[h] = sign * frac * 2 ** -24;
    else if (exp === 31) table[h] = frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else table[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return table;
})();

export function f16ToF32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  for (let i = 0; i < src.length; i++) out[i] = f16Table[src[i]!]!;
  return out;
}

export function bf16ToF32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return out;
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** Round to nearest even, as PyTorch's .to(torch.bfloat16). */
export function f32ToBf16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  for (let i = 0; i < src.length; i++) {
    scratch[0] = src[i]!;
    const x = scratchBits[0]!;
    if ((x & 0x7fffffff) > 0x7f800000) out[i] = (x >>> 16) | 0x40;
    else out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** Round to nearest even, with subnormals and overflow to infinity. */
export function f32ToF16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  for (let i = 0; i < src.length; i++) {
    scratch[0] = src[i]!;
    const x = scratchBits[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      const rounded = mant + half - 1 + ((mant >>> shift) & 1);
      out[i] = sign | (rounded >>> shift);
      continue;
    }
    const rounded = mant + 0xfff + ((mant >>> 13) & 1);
    if (rounded & 0x800000) {
      mant = 0;
      e += 1;
      if (e >= 31) {
        out[i] = sign | 0x7c00;
        continue;
      }
    } else {
      mant = rounded;
    }
    out[i] = sign | (e << 10) | (mant >>> 13);
  }
  return out;
}

/** Raw little-endian tensor bytes as the array a kernel reads: f32, or f16 kept when asked. */
export function toDeviceArray(
  bytes: Uint8Array,
  dtype: StorageDtype,
  keepF16: boolean,
): { data: Float32Array | Uint16Array; dtype: "f32" | "f16" } {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  if (dtype === "F32") return { data: new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4), dtype: "f32" };
  const halves = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
  if (dtype === "F16") return keepF16 ? { data: halves, dtype: "f16" } : { data: f16ToF32(halves), dtype: "f32" };
  return { data: bf16ToF32(halves), dtype: "f32" };
}
