// Regenerates the schema-derived section of specs/LANGUAGE.md.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { updateReference } from "../compiler/docs/reference.js";

const path = fileURLToPath(new URL("../../specs/LANGUAGE.md", import.meta.url));
const before = readFileSync(path, "utf8");
const after = updateReference(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? "specs/LANGUAGE.md is up to date" : "updated specs/LANGUAGE.md");
