// Storage buffers reused by size class, uploads through writeBuffer and
// readback into caller-owned typed arrays (measured on lavapipe: writeBuffer and
// set() from a mapped range run at ~11 GB/s; mappedAtCreation and
// getMappedRange().slice() are 10x slower).

// GPUBufferUsage is a global only once dawn-node has loaded, hence a function.
const storageUsage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
const MIN_CLASS = 256;

/** A byte range of a buffer, as kernels bind it. */
export interface BufferSlice {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

export type Bindable = GPUBuffer | BufferSlice;

type TypedArray = Float32Array | Uint32Array | Int32Array | Uint16Array | Uint8Array;

/** Size classes grow by quarters of a power of two, so waste is at most 25%. */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_CLASS) return MIN_CLASS;
  const p = 2 ** Math.floor(Math.log2(bytes - 1));
  const step = p / 4;
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly staging = new Map<number, GPUBuffer[]>();
  private readonly live = new Set<GPUBuffer>();

  constructor(private readonly device: GPUDevice) {}

  /** A storage buffer of at least `bytes` bytes; its contents are undefined. */
  acquire(bytes: number, label?: string): GPUBuffer {
    const size = sizeClass(Math.max(4, bytes));
    const reused = this.free.get(size)?.pop();
    if (reused) {
      this.live.add(reused);
      return reused;
    }
    const buffer = this.device.createBuffer({ size, usage: storageUsage(), ...(label ? { label } : {}) });
    this.live.add(buffer);
    return buffer;
  }

  /** Returns a buffer for reuse; the caller must no longer use it. */
  release(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) throw new Error("BufferPool.release: buffer not acquired from this pool");
    const list = this.free.get(buffer.size) ?? [];
    list.push(buffer);
    this.free.set(buffer.size, list);
  }

  /** A new buffer holding `data` (padded to 4 bytes). */
  upload(data: TypedArray, label?: string): GPUBuffer {
    const buffer = this.acquire(data.byteLength, label);
    this.write(buffer, data);
    return buffer;
  }

  write(buffer: GPUBuffer, data: TypedArray, byteOffset = 0): void {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength % 4 === 0) {
      this.device.queue.writeBuffer(buffer, byteOffset, bytes);
    } else {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      this.device.queue.writeBuffer(buffer, byteOffset, padded);
    }
  }

  /** Copies `into.byteLength` bytes from `source` (at byteOffset) into `into`. */
  async read(source: Bindable, into: TypedArray, byteOffset = 0): Promise<void> {
    const { buffer, offset } = "buffer" in source ? source : { buffer: source, offset: 0 };
    const bytes = Math.ceil(into.byteLength / 4) * 4;
    const size = sizeClass(bytes);
    const stage =
      this.staging.get(size)?.pop() ??
      this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, offset + byteOffset, stage, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    await stage.mapAsync(GPUMapMode.READ, 0, bytes);
    const view = new Uint8Array(stage.getMappedRange(0, bytes), 0, into.byteLength);
    new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(view);
    stage.unmap();
    const list = this.staging.get(size) ?? [];
    list.push(stage);
    this.staging.set(size, list);
  }

  /** Every buffer this pool made, in use or not, is destroyed. */
  destroy(): void {
    for (const list of [...this.free.values(), ...this.staging.values()]) for (const b of list) b.destroy();
    for (const b of this.live) b.destroy();
    this.free.clear();
    this.staging.clear();
    this.live.clear();
  }
}
