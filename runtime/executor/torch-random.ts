// PyTorch's CPU random numbers, bit for bit, for tensors that Python code
// makes from a seed and that a saved file may leave out (VeRA's projections
// with save_projection=False are regenerated from projection_prng_key).
//
// torch.Generator(device="cpu").manual_seed(s) is a 32-bit Mersenne Twister
// (MT19937) seeded with the low 32 bits of s by the reference init_genrand.
// Tensor.uniform_(-bound, bound, generator=g) on a float32 tensor draws one
// 32-bit number u per element, in memory order, serially, and computes
//   x = (u & 0xFFFFFF)·2⁻²⁴,   value = x·(to − from) + from
// with from = -bound and to = bound rounded to float32, and the multiply-add
// rounded once to float32 (torch's kernel is compiled with FMA contraction;
// rounding x·(to − from) first differs in about half the values).
// Checked against torch 2.13 (tests/methods/vera/torch-uniform.json).

const N = 624;
const M = 397;

export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    // Seeds beyond 32 bits keep their low 32 bits, as at::mt19937 does.
    this.state[0] = Number(BigInt.asUintN(32, BigInt(seed)));
    for (let j = 1; j < N; j++) {
      const prev = this.state[j - 1]!;
      this.state[j] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + j) >>> 0;
    }
  }

  private twist(): void {
    const s = this.state;
    for (let k = 0; k < N; k++) {
      const y = (s[k]! & 0x80000000) | (s[(k + 1) % N]! & 0x7fffffff);
      s[k] = s[(k + M) % N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }

  /** The next 32-bit output. */
  next(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

/**
 * `count` values of torch's uniform_(-bound, bound) on a float32 tensor, from
 * a CPU generator seeded with `seed` after `skip` draws (the elements of the
 * tensors filled before this one from the same generator).
 *
 * The multiply-add is exact in a double, so one Math.fround is torch's single
 * rounding: with b = fround(bound) = β·2^e (β < 2²⁴) and x = m·2⁻²⁴,
 * x·2b − b = β·(m − 2²³)·2^(e−23), an integer of at most 48 bits times a
 * power of two.
 */
export function torchUniformFloat32(seed: number, bound: number, count: number, skip = 0): Float32Array {
  const rng = new Mt19937(seed);
  for (let i = 0; i < skip; i++) rng.next();
  const from = -Math.fround(bound);
  const range = -2 * from;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const x = (rng.next() & 0xffffff) * 2 ** -24;
    out[i] = Math.fround(x * range + from);
  }
  return out;
}
