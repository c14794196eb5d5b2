// The host side of a generation graph: writes token ids, positions and the
// sequences' adapters, runs the prefill and decode phases, and reads the
// next-token logits back (the only readback per step). It knows no model and
// no method: everything it touches is named in graph.io.
import type { GenerateIo } from "../../compiler/graph/types.js";
import type { GraphRunner } from "../executor/graph-runner.js";

/** Token slot marking padding: no cache entry, and its row's output is unused. */
export const PADDING = -1;

export class DecodeSession {
  readonly io: GenerateIo;
  readonly batch: number;
  readonly vocab: number;
  private readonly logits: Float32Array;

  constructor(readonly runner: GraphRunner) {
    const io = runner.graph.io.generate;
    if (!io) throw new Error("this graph has no generation phases");
    this.io = io;
    this.batch = runner.graph.batch;
    const buffer = runner.graph.buffers.find((b) => b.name === io.logits)!;
    this.vocab = buffer.size / this.batch;
    this.logits = new Float32Array(buffer.size);
  }

  get capacity(): number {
    return this.io.capacity;
  }

  /** Which adapter each sequence runs with (−1: none); only a mixed-adapter graph takes this. */
  setAdapters(indices: readonly number[]): void {
    const name = this.runner.graph.io.adapterIndex;
    if (!name) {
      if (indices.some((i) => i !== indices[0])) throw new Error("this graph runs one adapter for every sequence");
      return;
    }
    const data = new Int32Array(this.batch).fill(PADDING);
    data.set(indices.slice(0, this.batch));
    this.runner.write(name, data);
  }

  /**
   * Runs the prompts (one per sequence, at most `batch`) through the cache,
   * left-padded to whole chunks so that every prompt ends on the last run's
   * last row. Returns logits [batch, vocab] after each prompt's last token
   * (rows past the prompts given are padding and meaningless).
   */
  async prefill(prompts: readonly (readonly number[])[]): Promise<Float32Array> {
    const { chunk, capacity } = this.io;
    if (prompts.length === 0 || prompts.length > this.batch) throw new Error(`prefill: ${prompts.length} prompts for a batch of ${this.batch}`);
    const longest = Math.max(...prompts.map((p) => p.length));
    if (longest === 0) throw new Error("prefill: an empty prompt");
    if (longest > capacity) throw new Error(`prefill: a prompt of ${longest} tokens in a cache of ${capacity}`);
    const runs = Math.ceil(longest / chunk);
    const padded = runs * chunk;
    const ids = new Int32Array(this.batch * chunk);
    const positions = new Int32Array(this.batch * chunk);
    for (let r = 0; r < runs; r++) {
      ids.fill(0);
      positions.fill(PADDING);
      prompts.forEach((prompt, b) => {
        const start = padded - prompt.length;
        for (let t = 0; t < chunk; t++) {
          const slot = r * chunk + t - start;
          if (slot < 0) continue;
          ids[b * chunk + t] = prompt[slot]!;
          positions[b * chunk + t] = slot;
        }
      });
      this.runner.write(this.io.ids, ids);
      this.runner.write(this.io.positions, positions);
      await this.runner.run(["prefill"]);
    }
    return this.readLogits();
  }

  /** One token per sequence at the given positions (PADDING for a sequence that has stopped); logits [batch, vocab]. */
  async decode(tokens: readonly number[], positions: readonly number[]): Promise<Float32Array> {
    const ids = new Int32Array(this.batch);
    const pos = new Int32Array(this.batch).fill(PADDING);
    tokens.forEach((t, b) => (ids[b] = positions[b]! < 0 ? 0 : t));
    positions.forEach((p, b) => {
      if (p >= this.io.capacity) throw new Error(`decode: position ${p} is past the cache (${this.io.capacity})`);
      pos[b] = p;
    });
    this.runner.write(this.io.ids, ids);
    this.runner.write(this.io.positions, pos);
    await this.runner.run(["decode"]);
    return this.readLogits();
  }

  private async readLogits(): Promise<Float32Array> {
    await this.runner.read(this.io.logits, this.logits);
    return this.logits;
  }
}
