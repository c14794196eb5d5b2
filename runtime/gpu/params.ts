// A kernel's params struct as the bytes of its uniform buffer: one 4-byte
// field each, in declaration order, padded to 16 bytes as WGSL's uniform layout wants.
import type { ParamField } from "../../compiler/codegen/types.js";

export function packParams(fields: readonly ParamField[], value: (name: string) => number): ArrayBuffer {
  const data = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(data);
  fields.forEach((field, i) => {
    const v = value(field.name);
    if (field.type === "f32") view.setFloat32(i * 4, v, true);
    else if (field.type === "i32") view.setInt32(i * 4, v, true);
    else view.setUint32(i * 4, v, true);
  });
  return data;
}
