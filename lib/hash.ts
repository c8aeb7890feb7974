/** Short content hashes, used as restart/reload triggers that read well in a preview. */
import { createHash } from "node:crypto";

/** First 12 hex digits of the SHA-256 of `s`. */
export function shortHash(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, 12);
}
