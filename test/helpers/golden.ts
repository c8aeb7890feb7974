/**
 * Golden files: test/unit/golden/<name>.txt. Regenerate with `UPDATE_GOLDEN=1 vitest run
 * <test file>` and review the diff before committing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

const GOLDEN_DIR = fileURLToPath(new URL("../unit/golden/", import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === "1";

/** Compares `out` with the golden file `name` (written first under UPDATE_GOLDEN=1). */
export function expectGolden(name: string, out: string): void {
  const file = join(GOLDEN_DIR, `${name}.txt`);
  if (UPDATE) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, out);
  }
  if (!existsSync(file)) {
    throw new Error(`golden file test/unit/golden/${name}.txt is missing; create it with \`UPDATE_GOLDEN=1 vitest run\` and review it`);
  }
  // Read back even after writing, so the comparison is always against the file on disk.
  expect(out).toBe(readFileSync(file, "utf8"));
}
