import { fileURLToPath } from "node:url";

/** The repository root (tests run from dist/tests). */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
