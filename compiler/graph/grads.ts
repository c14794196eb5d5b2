// Gradient buffers of activations during backward lowering. The first
// contribution to a gradient writes it, later ones add into it; a gradient can
// be the same buffer as another's (a residual add passes its gradient through
// unchanged, so the residual stream's gradient is one buffer updated in place).
import type { GraphBuilder } from "./builder.js";

export interface Contribution {
  buffer: string;
  /** Add into the buffer (it already holds an earlier contribution). */
  accumulate: boolean;
}

export class GradTracker {
  private readonly buffers = new Map<string, string>();
  private readonly written = new Set<string>();
  /** Activations whose value depends on a trained tensor: only they need gradients. */
  private readonly requires = new Set<string>();

  constructor(private readonly g: GraphBuilder) {}

  /** Marks an activation as depending on trained tensors. */
  mark(activation: string): void {
    this.requires.add(activation);
  }

  /** Marks `output` when any of `inputs` is marked or the op trains something itself. */
  propagate(output: string, inputs: string[], trainsItself = false): boolean {
    const needs = trainsItself || inputs.some((i) => this.requires.has(i));
    if (needs) this.requires.add(output);
    return needs;
  }

  needs(activation: string): boolean {
    return this.requires.has(activation);
  }

  private bufferOf(activation: string): string {
    let buffer = this.buffers.get(activation);
    if (!buffer) {
      buffer = this.g.activation(`d:${activation}`, this.g.get(activation).shape);
      this.buffers.set(activation, buffer);
    }
    return buffer;
  }

  /** Where the next contribution to the gradient of `activation` goes. */
  contribute(activation: string): Contribution {
    const buffer = this.bufferOf(activation);
    const accumulate = this.written.has(buffer);
    this.written.add(buffer);
    return { buffer, accumulate };
  }

  /** The gradient of `activation`, which must have been written. */
  read(activation: string): string {
    const buffer = this.buffers.get(activation);
    if (!buffer || !this.written.has(buffer)) throw new Error(`graph: the gradient of ${activation} is read before it is written`);
    return buffer;
  }

  has(activation: string): boolean {
    const buffer = this.buffers.get(activation);
    return buffer !== undefined && this.written.has(buffer);
  }

  /**
   * The gradient of `activation` is written over its value, which no later
   * backward op may read: an elementwise backward that reads its input once
   * per element writes the input's gradient in place and saves a buffer.
   */
  overwrite(activation: string, value = activation): string {
    if (this.buffers.has(activation)) throw new Error(`graph: the gradient of ${activation} already has a buffer`);
    this.buffers.set(activation, value);
    this.written.add(value);
    return value;
  }

  /** The gradient of `activation` is the gradient of `of` (same buffer), before either gets a new contribution. */
  alias(activation: string, of: string): void {
    if (this.buffers.has(activation)) throw new Error(`graph: the gradient of ${activation} already has a buffer`);
    this.buffers.set(activation, this.bufferOf(of));
  }
}
