// One WebGPU device per process, through dawn-node.
//
// dawn-node finds GPUs through the Vulkan loader on Linux; on a machine with no
// GPU, Mesa's lavapipe serves as the adapter. requestAdapter() then resolves to
// null without throwing, so every caller goes through acquireDevice(), which
// turns that null into an explanation a person can act on.
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The limits peftc's kernels depend on; requested at the adapter's maximum. */
export const LIMITS_WE_USE = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
] as const;

/** Features used when the adapter has them; none is required. */
export const OPTIONAL_FEATURES = ["shader-f16", "subgroups", "timestamp-query"] as const;

export interface GpuContext {
  adapter: GPUAdapter;
  device: GPUDevice;
  info: { vendor: string; architecture: string; device: string; description: string };
  features: string[];
  limits: Record<(typeof LIMITS_WE_USE)[number], number>;
}

export class NoAdapterError extends Error {
  constructor(readonly reasons: string[], readonly fix: string[]) {
    super("no WebGPU adapter could be created");
  }
}

export class DeviceLostError extends Error {}

// Held for the life of the process: once dawn-node's GPU object is collected,
// later calls crash at random.
let gpuObject: GPU | undefined;
let contextPromise: Promise<GpuContext> | undefined;

/** Must run before the Vulkan driver loads: Mesa reads these at load time. */
function prepareEnvironment(): void {
  // llvmpipe's worker threads compete with Node's polling thread; more workers
  // than cores measured 25-40% faster on lavapipe.
  process.env.LP_NUM_THREADS ??= "8";
  // Mesa complains on headless machines when this is unset; give it a private dir.
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  if (!runtimeDir || !existsSync(runtimeDir)) {
    const dir = join(tmpdir(), `peftc-runtime-${process.getuid?.() ?? "user"}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
}

async function loadGpu(): Promise<GPU> {
  if (gpuObject) return gpuObject;
  prepareEnvironment();
  const webgpu = await import("webgpu");
  Object.assign(globalThis, webgpu.globals);
  gpuObject = webgpu.create([]);
  return gpuObject;
}

/** The process's device, created on first use. */
export function acquireDevice(): Promise<GpuContext> {
  contextPromise ??= createContext();
  return contextPromise;
}

async function createContext(): Promise<GpuContext> {
  const gpu = await loadGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    const diagnosis = diagnoseMissingAdapter();
    throw new NoAdapterError(diagnosis.reasons, diagnosis.fix);
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_WE_USE) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  device.lost.then((lost) => {
    if (lost.reason !== "destroyed") {
      process.stderr.write(`peftc: error: the GPU device was lost: ${lost.message}\n`);
      process.exit(1);
    }
  });
  const limits = {} as GpuContext["limits"];
  for (const name of LIMITS_WE_USE) limits[name] = device.limits[name];
  const info = adapter.info;
  return {
    adapter,
    device,
    info: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
    },
    features: [...device.features].sort(),
    limits,
  };
}

/**
 * Another device on a fresh adapter with the main device's features and
 * limits, or undefined when the machine gives no second one. Used only to
 * compile pipelines in parallel on CPU adapters (see gpu/warm.ts).
 */
export async function createHelperDevice(main: GpuContext): Promise<GPUDevice | undefined> {
  const gpu = await loadGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return undefined;
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_WE_USE) requiredLimits[name] = Math.min(adapter.limits[name], main.limits[name]);
  const requiredFeatures = main.features.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  if (requiredFeatures.length !== main.features.length) return undefined;
  try {
    return await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch {
    return undefined;
  }
}

/** Releases the device so that Node can exit. */
export async function releaseDevice(): Promise<void> {
  if (!contextPromise) return;
  const context = await contextPromise.catch(() => undefined);
  context?.device.destroy();
  contextPromise = undefined;
}

const ICD_DIRS = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"];
const VULKAN_LOADER_PATHS = [
  "/usr/lib/x86_64-linux-gnu/libvulkan.so.1",
  "/usr/lib/aarch64-linux-gnu/libvulkan.so.1",
  "/usr/lib64/libvulkan.so.1",
  "/usr/lib/libvulkan.so.1",
];

/** Why requestAdapter() gave null on this machine, and what would fix it. */
export function diagnoseMissingAdapter(): { reasons: string[]; fix: string[] } {
  const reasons: string[] = [];
  const fix: string[] = [];
  if (process.platform !== "linux") {
    reasons.push(`no GPU driver that dawn-node can use was found on ${process.platform}`);
    fix.push("update the GPU driver (Metal on macOS, D3D12 on Windows)");
    return { reasons, fix };
  }
  const loader = VULKAN_LOADER_PATHS.find((p) => existsSync(p));
  const icds = ICD_DIRS.flatMap((dir) => (existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : []));
  if (!loader) reasons.push("the Vulkan loader (libvulkan.so.1) is not installed");
  if (icds.length === 0) reasons.push("no Vulkan driver is installed (no ICD file in /usr/share/vulkan/icd.d)");
  const lavapipe = icds.find((f) => f.includes("lvp"));
  const mesa = installedMesaVersion();
  if (lavapipe && mesa && mesa.major < 23) {
    reasons.push(`Mesa ${mesa.text} is installed, but Dawn needs Mesa 23 or newer (lavapipe ${mesa.text} lacks shaderUniform*ArrayDynamicIndexing)`);
  }
  if (reasons.length === 0) reasons.push("the Vulkan loader found no usable device");
  const os = readOsRelease();
  if (os.id === "debian" && os.versionId === "12") {
    fix.push(
      "install Mesa's software Vulkan driver from bookworm-backports (as root), or run ./setup.sh which does this:",
      "  add /etc/apt/sources.list.d/backports.sources with Suites: bookworm-backports (same mirror and keyring as debian.sources)",
      "  apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1",
    );
  } else {
    fix.push("install a Vulkan driver: your GPU vendor's, or Mesa 23+ lavapipe (package mesa-vulkan-drivers, plus libvulkan1)");
  }
  return { reasons, fix };
}

function installedMesaVersion(): { major: number; text: string } | undefined {
  const status = "/var/lib/dpkg/status";
  if (!existsSync(status)) return undefined;
  const match = /Package: mesa-vulkan-drivers\n(?:[^\n]+\n)*?Version: (?:\d+:)?((\d+)\.[^\s]+)/.exec(readFileSync(status, "utf8"));
  if (!match) return undefined;
  return { major: Number(match[2]), text: match[1]! };
}

function readOsRelease(): { id?: string; versionId?: string } {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    const field = (key: string) => new RegExp(`^${key}="?([^"\\n]*)"?$`, "m").exec(text)?.[1];
    return { id: field("ID"), versionId: field("VERSION_ID") };
  } catch {
    return {};
  }
}
