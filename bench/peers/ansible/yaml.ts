/**
 * A small YAML writer for the playbook: block style, as a person writes a playbook.
 * Plain scalars only where YAML cannot read them as anything else; every other string is
 * double-quoted (JSON's escapes are YAML's), and multi-line strings are literal blocks.
 * Pure. Input: strings, numbers, booleans, arrays and plain objects.
 */

export type Yaml = string | number | boolean | null | readonly Yaml[] | { readonly [key: string]: Yaml | undefined };

/** Words YAML 1.1 (PyYAML, Ansible's parser) reads as booleans or null. */
const RESERVED = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$/;

function scalar(s: string): string {
  const plain = /^[A-Za-z_/][A-Za-z0-9_./@+-]*(?: [A-Za-z0-9_./@+()-]+)*$/.test(s)
    && !RESERVED.test(s) && !/^[0-9.+-]/.test(s);
  // JSON's escapes are YAML's; the characters YAML 1.1 reads as line breaks are escaped too.
  return plain ? s : JSON.stringify(s).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function key(k: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) || RESERVED.test(k)) return JSON.stringify(k);
  return k;
}

/** A literal block for a multi-line string, or undefined when one cannot hold it exactly. */
function block(s: string, indent: string): string | undefined {
  if (!s.includes("\n") || /[\0-\x08\x0b-\x1f\x7f\u0085\u2028\u2029\uFEFF]/.test(s) || /\t/.test(s)) return undefined;
  const body = s.replace(/\n+$/, "");
  const trailing = s.length - body.length;
  const chomp = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
  const lines = (trailing > 1 ? s.slice(0, -1) : body).split("\n");
  // A first line that starts with a space needs an explicit indentation indicator.
  const indicator = lines[0]!.startsWith(" ") ? "2" : "";
  return `|${indicator}${chomp}\n${lines.map((l) => (l === "" ? "" : `${indent}  ${l}`)).join("\n")}`;
}

function value(v: Yaml, indent: string): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`cannot write ${v} in YAML`);
    return String(v);
  }
  if (typeof v === "string") return block(v, indent) ?? scalar(v);
  throw new Error("value() takes scalars");
}

function lines(v: Yaml, indent: string): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return " []";
    return v.map((item: Yaml) => {
      if (item !== null && typeof item === "object") {
        const inner = lines(item, `${indent}  `);
        // A mapping in a list starts on the dash's line.
        return Array.isArray(item) ? `\n${indent}-${inner}` : `\n${indent}- ${inner.replace(/^\n\s*/, "")}`;
      }
      return `\n${indent}- ${value(item, `${indent}  `)}`;
    }).join("");
  }
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined) as Array<[string, Yaml]>;
    if (entries.length === 0) return " {}";
    return entries.map(([k, x]) => {
      if (x !== null && typeof x === "object") return `\n${indent}${key(k)}:${lines(x, `${indent}  `)}`;
      return `\n${indent}${key(k)}: ${value(x, indent)}`;
    }).join("");
  }
  return ` ${value(v, indent)}`;
}

/** A YAML document (with `---`), ending in a newline. */
export function toYaml(doc: Yaml): string {
  return `---${lines(doc, "")}\n`;
}
