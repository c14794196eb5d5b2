// The JSON form of a generated kernel. The compiler writes these into a bundle
// (kernels/<key>.wgsl plus this metadata); the runtime only ever sees them as
// data, so everything here must survive JSON.stringify/parse unchanged.

export type BindingAccess = "read" | "read_write" | "uniform";

export interface KernelBinding {
  name: string;
  access: BindingAccess;
}

/** A field of a kernel's uniform params struct, in declaration order. */
export interface ParamField {
  name: string;
  type: "u32" | "f32" | "i32";
}

export interface KernelSource {
  /** Deterministic in the specialisation: identical specialisations share a key. */
  key: string;
  family: string;
  /** Template file name under compiler/codegen/templates/. */
  template: string;
  variant: string;
  /** One line saying why this variant was chosen, for `peftc inspect`. */
  reason: string;
  wgsl: string;
  entryPoint: string;
  workgroupSize: [number, number, number];
  /** In @binding order, all in @group(0). */
  bindings: KernelBinding[];
  /** The layout of the binding named "params", when the kernel has one. */
  params?: ParamField[];
}

export interface KernelInstance {
  kernel: KernelSource;
  /** Workgroup counts for the shape the kernel was specialised on. */
  dispatch: [number, number, number];
  /** Values for the params buffer known at compile time; the rest are supplied per run. */
  params?: Record<string, number>;
}

/** What codegen needs to know about the device to choose variants. */
export interface DeviceProfile {
  /** "cpu" for software adapters (lavapipe, SwiftShader): one workgroup is one CPU thread. */
  kind: "cpu" | "gpu";
  shaderF16: boolean;
  subgroups: boolean;
  maxWorkgroupStorage: number;
  maxInvocationsPerWorkgroup: number;
}

export const PORTABLE_GPU: DeviceProfile = {
  kind: "gpu",
  shaderF16: false,
  subgroups: false,
  maxWorkgroupStorage: 16384,
  maxInvocationsPerWorkgroup: 256,
};

/** One dispatch of an operation made of several kernels. */
export interface KernelStep {
  instance: KernelInstance;
  /** Kernel binding name → the operation's tensor name. */
  bind: Record<string, string>;
}

/**
 * An operation as an ordered list of dispatches over named tensors. Tensors
 * in `scratch` (element counts, f32) are intermediates the caller allocates.
 */
export interface KernelPlan {
  steps: KernelStep[];
  scratch: Record<string, number>;
  /** Why the operation was split this way, for `peftc inspect`. */
  reason?: string;
}
