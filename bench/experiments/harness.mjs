// Shared set-up for the raw-WGSL experiments in this folder: a device, buffers,
// a pipeline, wall-clock timing around onSubmittedWorkDone.
import { create, globals } from "webgpu";
process.env.LP_NUM_THREADS ??= "8";
Object.assign(globalThis, globals);
const gpu = create([]);
globalThis.__gpu = gpu;
const adapter = await gpu.requestAdapter();
const feats = [...adapter.features].filter(f => ["shader-f16","subgroups","timestamp-query"].includes(f));
const device = await adapter.requestDevice({ requiredFeatures: feats, requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } });
export { device };
const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
export function buf(data) { const b = device.createBuffer({ size: data.byteLength, usage }); device.queue.writeBuffer(b, 0, data); return b; }
export async function read(b, n) { const r = device.createBuffer({ size: n*4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }); const e = device.createCommandEncoder(); e.copyBufferToBuffer(b, 0, r, 0, n*4); device.queue.submit([e.finish()]); await r.mapAsync(GPUMapMode.READ); const out = new Float32Array(n); out.set(new Float32Array(r.getMappedRange())); r.unmap(); r.destroy(); return out; }
export async function pipeline(code) {
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code });
  const t0 = performance.now();
  const p = await device.createComputePipelineAsync({ layout: "auto", compute: { module, entryPoint: "main" } });
  const err = await device.popErrorScope();
  if (err) throw new Error(err.message);
  return { p, ms: performance.now() - t0 };
}
export async function time(p, buffers, wg, reps = 5) {
  const bg = device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const run = async (n) => { const e = device.createCommandEncoder(); for (let i=0;i<n;i++){ const pass = e.beginComputePass(); pass.setPipeline(p); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(...wg); pass.end(); } device.queue.submit([e.finish()]); await device.queue.onSubmittedWorkDone(); };
  await run(1);
  const ts = [];
  for (let i = 0; i < reps; i++) { const t0 = performance.now(); await run(1); ts.push(performance.now() - t0); }
  ts.sort((a,b)=>a-b);
  return ts[0];
}
export function rand(n) { const a = new Float32Array(n); for (let i=0;i<n;i++) a[i]=Math.random()*2-1; return a; }
