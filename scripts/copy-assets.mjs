// Copies the non-TypeScript files the library reads at run time (WGSL
// templates, JSON schemas) next to the compiled JavaScript in dist/.
import { cpSync, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const ASSET = /\.(hbs|wgsl|json)$/;
const ROOTS = ["grammar", "compiler", "runtime"];

function copyTree(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyTree(path);
    else if (ASSET.test(name)) cpSync(path, join("dist", path));
  }
}
for (const root of ROOTS) copyTree(root);
