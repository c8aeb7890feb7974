/** Small helpers on plain records. */

/** Whether two string records hold the same keys with the same values (order aside). */
export function sameRecord(a: Record<string, string> = {}, b: Record<string, string> = {}): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}
