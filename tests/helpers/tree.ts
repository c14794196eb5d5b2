// A directory tree's contents as one digest: what "byte-identical after the
// command" is checked against.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** Every entry's relative path, kind and bytes (links by their target, not followed). */
export function treeDigest(root: string): string {
  const hash = createHash("sha256");
  const visit = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const info = lstatSync(path);
      const at = rel ? `${rel}/${name}` : name;
      if (info.isSymbolicLink()) hash.update(`link ${at} ${readlinkSync(path)}\n`);
      else if (info.isDirectory()) {
        hash.update(`dir ${at}\n`);
        visit(path, at);
      } else {
        hash.update(`file ${at} ${info.size}\n`);
        hash.update(readFileSync(path));
      }
    }
  };
  visit(root, "");
  return hash.digest("hex");
}
