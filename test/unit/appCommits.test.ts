/**
 * test/helpers/appCommits.ts against a local bare repository made by scripts/publish-example
 * (local git only, in a temp folder): each variant is one commit on top of main, on its own
 * branch, changing exactly the file it should, deterministically.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishVariant, V2_MARKER, VARIANT_SPECS, VARIANTS, type Variant } from "../helpers/appCommits.ts";
import { ROOT } from "../helpers/pulumi.ts";

let gitRoot: string;
let bare: string;
let main: string;
const git = (...args: string[]) => execFileSync("git", ["-C", bare, ...args], { encoding: "utf8" }).trim();

beforeAll(() => {
  gitRoot = mkdtempSync(join(tmpdir(), "fleet-appcommits-"));
  bare = join(gitRoot, "fleetdemo.git");
  main = execFileSync(join(ROOT, "scripts/publish-example"), [gitRoot], { encoding: "utf8" }).trim();
});
afterAll(() => rmSync(gitRoot, { recursive: true, force: true }));

const expected: Record<Variant, { branch: string; file: string; added: RegExp }> = {
  v2: { branch: "v2", file: "notes/templates/notes/index.html", added: /^\+\s*<p id="release">release v2<\/p>$/m },
  unhealthy: { branch: "unhealthy", file: "notes/views.py", added: /^\+\s*return HttpResponse\(.*status=500.*\)$/m },
  importError: { branch: "importerror", file: "fleetdemo/wsgi.py", added: /^\+raise RuntimeError\(/m },
};

describe("publishVariant", () => {
  for (const v of VARIANTS) {
    it(`${v}: one commit on top of main, on branch ${expected[v].branch}, changing only ${expected[v].file}`, () => {
      const commit = publishVariant(gitRoot, v);
      expect(commit).toMatch(/^[0-9a-f]{40}$/);
      expect(git("rev-parse", `refs/heads/${expected[v].branch}`)).toBe(commit);
      expect(git("rev-list", "--parents", "-n", "1", commit).split(" ")).toEqual([commit, main]);
      expect(git("diff", "--name-only", main, commit).split("\n")).toEqual([expected[v].file]);
      expect(git("diff", main, commit)).toMatch(expected[v].added);
      // Requirements never change: a variant deploys without new packages.
      expect(git("diff", "--stat", main, commit, "--", "requirements.txt")).toBe("");
      // Fixed author and date, later than main's, one per variant.
      expect(git("log", "-1", "--format=%an <%ae> %aI %cI", commit)).toBe(`django-fleet <fleet@localhost> ${VARIANT_SPECS[v].date.replace("Z", "+00:00")} ${VARIANT_SPECS[v].date.replace("Z", "+00:00")}`);
      // main itself is untouched.
      expect(git("rev-parse", "refs/heads/main")).toBe(main);
    });
  }

  it("is deterministic: publishing again gives the same commit", () => {
    const first = publishVariant(gitRoot, "v2");
    expect(publishVariant(gitRoot, "v2")).toBe(first);
  });

  it("the variants are distinct commits with distinct dates", () => {
    const commits = VARIANTS.map((v) => publishVariant(gitRoot, v));
    expect(new Set(commits).size).toBe(VARIANTS.length);
    expect(new Set(VARIANTS.map((v) => VARIANT_SPECS[v].date)).size).toBe(VARIANTS.length);
  });

  it("the changed Python still compiles, and v2's page carries the marker", () => {
    const work = mkdtempSync(join(tmpdir(), "fleet-appcommits-check-"));
    try {
      for (const v of VARIANTS) {
        const dir = join(work, v);
        execFileSync("git", ["clone", "-q", "--branch", expected[v].branch, bare, dir]);
        if (expected[v].file.endsWith(".py")) {
          execFileSync("python3", ["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())", join(dir, expected[v].file)]);
        }
      }
      expect(execFileSync("git", ["-C", bare, "show", "v2:notes/templates/notes/index.html"], { encoding: "utf8" })).toContain(V2_MARKER);
      // The WSGI module raises before `application` exists; the settings are untouched.
      const wsgi = execFileSync("git", ["-C", bare, "show", "importerror:fleetdemo/wsgi.py"], { encoding: "utf8" });
      expect(wsgi.indexOf("raise RuntimeError")).toBeLessThan(wsgi.indexOf("application = get_wsgi_application()"));
      // Run with a stub Django: main's module imports, importerror's raises.
      const stubbed = (file: string) => execFileSync("python3", ["-c", [
        "import sys, types",
        "w = types.ModuleType('django.core.wsgi'); w.get_wsgi_application = lambda: 'app'",
        "sys.modules.update({'django': types.ModuleType('django'), 'django.core': types.ModuleType('django.core'), 'django.core.wsgi': w})",
        "ns = {}",
        "try:",
        "    exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'), ns); print('imported', ns['application'])",
        "except RuntimeError as e:",
        "    print('raised', e)",
      ].join("\n"), file], { encoding: "utf8" }).trim();
      expect(stubbed(join(ROOT, "examples/app/fleetdemo/wsgi.py"))).toBe("imported app");
      expect(stubbed(join(work, "importError", "fleetdemo/wsgi.py"))).toBe("raised fleetdemo.wsgi: broken release");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("refuses an unknown variant and a repository without main", () => {
    expect(() => publishVariant(gitRoot, "v3" as Variant)).toThrow(/unknown variant "v3"/);
    const empty = mkdtempSync(join(tmpdir(), "fleet-appcommits-empty-"));
    try {
      execFileSync("git", ["init", "-q", "--bare", join(empty, "fleetdemo.git")]);
      expect(() => publishVariant(empty, "v2")).toThrow();
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("an edit whose anchor is gone fails loudly", () => {
    expect(() => VARIANT_SPECS.v2.edits[0]!.edit("<h1>renamed</h1>\n")).toThrow(/expected exactly one/);
  });
});
