/**
 * How a Django project declares its Python dependencies and the Python it needs, read
 * from the files at the root of its repository. Pure: lib/repoFiles.ts reads the files;
 * this decides.
 *
 *   uv.lock + pyproject.toml  ->  uv sync --frozen (uv pinned, the host's Python)
 *   poetry.lock               ->  poetry sync (Poetry pinned, into the app's virtualenv)
 *   requirements file         ->  pip install -r (with --require-hashes when it has hashes)
 */
import type { AppConfig } from "./schema.ts";

export type InstallMethod = "uv" | "poetry" | "pip";

/** What was read from the repository at the deployed commit. */
export interface RepoSnapshot {
  /** Names at the repository root. */
  readonly rootFiles: ReadonlySet<string>;
  /** Contents of the files that matter, by path (pyproject.toml, .python-version, the requirements file). */
  readonly contents: ReadonlyMap<string, string>;
}

/** The decided install: method, files, and the Python the project accepts. */
export interface PythonProject {
  readonly method: InstallMethod;
  /** Why this method (for previews and errors): `uv.lock found`, `app.install.method`. */
  readonly reason: string;
  /** The pip requirements file (method pip). */
  readonly requirementsFile?: string;
  /** The requirements file pins hashes: pip runs with --require-hashes. */
  readonly requireHashes: boolean;
  /** A PEP 440 specifier the host's Python must satisfy, and where it came from. */
  readonly requiresPython?: { readonly spec: string; readonly source: string };
}

/** The files detection reads; lib/repoFiles.ts fetches these. */
export function filesToRead(app: Pick<AppConfig, "requirementsFile">): string[] {
  return ["pyproject.toml", ".python-version", app.requirementsFile ?? "requirements.txt"];
}

/** The value of `key` in TOML table `table` (a single-line string), or undefined. */
export function tomlString(text: string, table: string, key: string): string | undefined {
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\s+#.*$/, "").trim();
    const header = /^\[([^\[\]]+)\]$/.exec(line);
    if (header) { current = header[1]!.trim(); continue; }
    if (current !== table) continue;
    const m = new RegExp(`^"?${key.replace(/[.-]/g, "\\$&")}"?\\s*=\\s*(["'])(.*)\\1$`).exec(line);
    if (m) return m[2];
  }
  return undefined;
}

/** One Poetry constraint (`^3.12`, `~3.12`, `~3`, `3.12.*`, a bare `3.12.4`, `>=3.10`) as PEP 440. */
function poetryTerm(s: string): string {
  const caret = /^\^(\d+)(?:\.(\d+))?/.exec(s);
  if (caret) return `>=${s.slice(1)},<${Number(caret[1]) + 1}`;
  const tilde = /^~(\d+)(?:\.(\d+))?/.exec(s);
  if (tilde && !s.startsWith("~=")) {
    return tilde[2] === undefined ? `>=${tilde[1]},<${Number(tilde[1]) + 1}` : `>=${s.slice(1)},<${tilde[1]}.${Number(tilde[2]) + 1}`;
  }
  // A bare version (or wildcard) is an exact match in Poetry.
  if (/^\d+(\.\d+)*(\.\*)?$/.test(s)) return `==${s}`;
  return s;
}

/** Poetry's constraint syntax as PEP 440 specifier sets; `||` alternatives are kept as ` || `. */
function fromPoetry(spec: string): string {
  return spec.split("||").map((alt) => alt.trim()
    // ">= 3.10" is one term; terms are separated by commas or spaces.
    .replace(/([<>=!~^]=?)\s+/g, "$1").split(/[\s,]+/).filter(Boolean).map(poetryTerm).join(",")).join(" || ");
}

/** The Python the project accepts: requires-python, Poetry's python dependency, or .python-version. */
export function requiresPython(snap: RepoSnapshot): PythonProject["requiresPython"] {
  const pyproject = snap.contents.get("pyproject.toml");
  if (pyproject !== undefined) {
    const spec = tomlString(pyproject, "project", "requires-python");
    if (spec) return { spec, source: "pyproject.toml [project] requires-python" };
    const poetry = tomlString(pyproject, "tool.poetry.dependencies", "python");
    if (poetry && poetry !== "*") return { spec: fromPoetry(poetry), source: "pyproject.toml [tool.poetry.dependencies] python" };
  }
  const pin = snap.contents.get(".python-version")?.split("\n").map((l) => l.trim()).find((l) => l && !l.startsWith("#"));
  if (pin && /^\d+\.\d+(\.\d+)?$/.test(pin)) {
    // A developer's pin (pyenv's 3.11.9): the minor version is what matters on a server.
    return { spec: `==${pin.split(".").slice(0, 2).join(".")}.*`, source: ".python-version" };
  }
  return undefined;
}

/** A requirements file with `--hash=` lines must be installed in hash-checking mode. */
export function hasHashes(requirements: string): boolean {
  return /(^|\s)--hash[=\s]/m.test(requirements);
}

/**
 * Decides the install method: `app.install.method` when set, else the lock files found,
 * else the requirements file. Returns an error text (naming the key and the fix) when the
 * repository offers nothing to install from.
 */
export function detectPythonProject(app: Pick<AppConfig, "install" | "requirementsFile">, snap: RepoSnapshot): PythonProject | string {
  const has = (f: string) => snap.rootFiles.has(f);
  const reqFile = app.requirementsFile ?? "requirements.txt";
  const requirements = snap.contents.get(reqFile);
  const base = { requireHashes: false, requiresPython: requiresPython(snap) };
  const pip = (reason: string): PythonProject | string => requirements === undefined
    ? `app.requirementsFile: ${JSON.stringify(reqFile)} is not in the repository. Fix: \`npm run pulumi -- config set --path app.requirementsFile <path>\` (relative to the repository root)`
    : { ...base, method: "pip", reason, requirementsFile: reqFile, requireHashes: hasHashes(requirements) };
  const method = app.install.method;
  if (method === "uv") {
    return has("uv.lock") && has("pyproject.toml") ? { ...base, method: "uv", reason: "app.install.method" }
      : `app.install.method: "uv" needs pyproject.toml and uv.lock at the repository root. Fix: run \`uv lock\` and commit uv.lock, or choose another method`;
  }
  if (method === "poetry") {
    return has("poetry.lock") && has("pyproject.toml") ? { ...base, method: "poetry", reason: "app.install.method" }
      : `app.install.method: "poetry" needs pyproject.toml and poetry.lock at the repository root. Fix: run \`poetry lock\` and commit poetry.lock, or choose another method`;
  }
  if (method === "pip") return pip("app.install.method");
  // auto: an explicit requirements file wins, then the lock files, then requirements.txt.
  if (app.requirementsFile !== undefined) return pip("app.requirementsFile");
  if (has("uv.lock") && has("pyproject.toml")) return { ...base, method: "uv", reason: "uv.lock found" };
  if (has("poetry.lock") && has("pyproject.toml")) return { ...base, method: "poetry", reason: "poetry.lock found" };
  if (requirements !== undefined) return pip(`${reqFile} found`);
  const lock = ["uv.lock", "poetry.lock"].find(has);
  const what = has("pyproject.toml") ? "pyproject.toml without a lock file (uv.lock or poetry.lock)"
    : lock ? `${lock} but no pyproject.toml next to it, and no requirements.txt`
    : "no pyproject.toml, uv.lock, poetry.lock or requirements.txt";
  return `app.install: the repository has ${what} at its root, so there is no pinned set of dependencies to install. Fix: commit a lock file (\`uv lock\`), or set app.requirementsFile to your requirements file`;
}

type Version = number[];

function parseVersion(v: string): Version {
  return v.split(".").map((x) => Number.parseInt(x, 10));
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * Whether a Python version (e.g. "3.13.5") satisfies a PEP 440 specifier set
 * (">=3.12", ">=3.10,<3.14", "~=3.12", "==3.12.*", "!=3.11.*"). Release numbers only:
 * pre-releases and local versions do not occur in a Debian python3. Returns an error
 * text for a specifier it cannot read.
 */
export function satisfies(version: string, specifiers: string): boolean | string {
  // Poetry's alternatives (kept by requiresPython as " || "): any one may hold.
  if (specifiers.includes("||")) {
    const results = specifiers.split("||").map((alt) => satisfies(version, alt));
    const unreadable = results.find((r) => typeof r === "string");
    return unreadable ?? results.some((r) => r === true);
  }
  const v = parseVersion(version);
  let all = true;
  for (const raw of specifiers.split(",")) {
    const s = raw.trim();
    if (!s) continue;
    const m = /^(===|==|!=|~=|>=|<=|>|<)\s*(\d+(?:\.\d+)*)(\.\*)?$/.exec(s);
    if (!m) return `cannot read the Python version specifier ${JSON.stringify(s)}`;
    const [, op, target, star] = m as unknown as [string, string, string, string | undefined];
    const t = parseVersion(target);
    const prefix = (n: number) => compare(v.slice(0, n), t.slice(0, n)) === 0;
    let ok: boolean;
    switch (op) {
      case "==": case "===": ok = star ? prefix(t.length) : compare(v, t) === 0; break;
      case "!=": ok = star ? !prefix(t.length) : compare(v, t) !== 0; break;
      case ">=": ok = compare(v, t) >= 0; break;
      case "<=": ok = compare(v, t) <= 0; break;
      case ">": ok = compare(v, t) > 0; break;
      case "<": ok = compare(v, t) < 0; break;
      default: // ~=X.Y means >=X.Y, ==X.*
        if (t.length < 2) return `~= needs at least two version parts, got ${JSON.stringify(s)}`;
        ok = compare(v, t) >= 0 && prefix(t.length - 1);
    }
    // Keep reading: an unreadable part later on is still reported.
    all &&= ok;
  }
  return all;
}
