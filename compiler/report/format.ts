// Numbers and sizes as people read them.

export function thousands(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function shape(dims: number[]): string {
  return dims.join("×");
}

/** The last part of a tensor key, after the module path: lora_A.weight → lora_A. */
export function shortTensorName(key: string, modulePath?: string): string {
  const rest = modulePath && key.includes(`${modulePath}.`) ? key.slice(key.indexOf(`${modulePath}.`) + modulePath.length + 1) : key.split(".").slice(-2).join(".");
  return rest.replace(/\.weight$/, "");
}
