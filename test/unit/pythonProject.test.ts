import { describe, expect, it } from "vitest";
import {
  detectPythonProject,
  filesToRead,
  hasHashes,
  requiresPython,
  satisfies,
  tomlString,
  type PythonProject,
  type RepoSnapshot,
} from "../../config/pythonProject.ts";
import type { AppConfig } from "../../config/schema.ts";

/**
 * A repository as lib/repoFiles.ts hands it over: every path's first segment is a root
 * name; a string is a file whose contents were read, null a file that is only listed
 * (lock files are never read).
 */
function repo(files: Record<string, string | null>): RepoSnapshot {
  return {
    rootFiles: new Set(Object.keys(files).map((p) => p.split("/")[0]!)),
    contents: new Map(Object.entries(files).filter((e): e is [string, string] => typeof e[1] === "string")),
  };
}

type App = Pick<AppConfig, "install" | "requirementsFile">;

function app(method: AppConfig["install"]["method"] = "auto", requirementsFile?: string): App {
  return { install: { method, groups: [], extras: [] }, requirementsFile };
}

const PYPROJECT = '[project]\nname = "shop"\nrequires-python = ">=3.12"\n';
const FROM_PYPROJECT = { spec: ">=3.12", source: "pyproject.toml [project] requires-python" };
const HASHED = "django==5.2.4 \\\n    --hash=sha256:aaaa\nasgiref==3.9.1 --hash=sha256:bbbb\n";

describe("detectPythonProject", () => {
  const cases: Array<[string, App, Record<string, string | null>, PythonProject | string]> = [
    ["auto: uv.lock and pyproject.toml choose uv", app(), { "pyproject.toml": PYPROJECT, "uv.lock": null },
      { method: "uv", reason: "uv.lock found", requireHashes: false, requiresPython: FROM_PYPROJECT }],
    ["auto: poetry.lock and pyproject.toml choose Poetry", app(), { "pyproject.toml": PYPROJECT, "poetry.lock": null },
      { method: "poetry", reason: "poetry.lock found", requireHashes: false, requiresPython: FROM_PYPROJECT }],
    ["auto: uv.lock wins over poetry.lock and requirements.txt", app(),
      { "pyproject.toml": PYPROJECT, "uv.lock": null, "poetry.lock": null, "requirements.txt": "django\n" },
      { method: "uv", reason: "uv.lock found", requireHashes: false, requiresPython: FROM_PYPROJECT }],
    ["auto: poetry.lock wins over requirements.txt", app(),
      { "pyproject.toml": PYPROJECT, "poetry.lock": null, "requirements.txt": "django\n" },
      { method: "poetry", reason: "poetry.lock found", requireHashes: false, requiresPython: FROM_PYPROJECT }],
    ["auto: requirements.txt alone chooses pip", app(), { "requirements.txt": "django==5.2.4\n" },
      { method: "pip", reason: "requirements.txt found", requirementsFile: "requirements.txt", requireHashes: false, requiresPython: undefined }],
    ["auto: a hashed requirements.txt installs with --require-hashes", app(), { "requirements.txt": HASHED },
      { method: "pip", reason: "requirements.txt found", requirementsFile: "requirements.txt", requireHashes: true, requiresPython: undefined }],
    ["auto: uv.lock without pyproject.toml is not uv", app(), { "uv.lock": null, "requirements.txt": "django\n" },
      { method: "pip", reason: "requirements.txt found", requirementsFile: "requirements.txt", requireHashes: false, requiresPython: undefined }],
    ["auto: poetry.lock without pyproject.toml is not Poetry", app(), { "poetry.lock": null, "requirements.txt": "django\n" },
      { method: "pip", reason: "requirements.txt found", requirementsFile: "requirements.txt", requireHashes: false, requiresPython: undefined }],
    ["auto: pyproject.toml and requirements.txt without a lock choose pip, with the pyproject's Python", app(),
      { "pyproject.toml": PYPROJECT, "requirements.txt": "django\n" },
      { method: "pip", reason: "requirements.txt found", requirementsFile: "requirements.txt", requireHashes: false, requiresPython: FROM_PYPROJECT }],
    ["auto: an explicit requirements file wins over uv.lock", app("auto", "requirements/prod.txt"),
      { "pyproject.toml": PYPROJECT, "uv.lock": null, "requirements/prod.txt": HASHED },
      { method: "pip", reason: "app.requirementsFile", requirementsFile: "requirements/prod.txt", requireHashes: true, requiresPython: FROM_PYPROJECT }],
    ["auto: an explicit requirements file is used even when requirements.txt exists", app("auto", "reqs.txt"),
      { "requirements.txt": HASHED, "reqs.txt": "django\n" },
      { method: "pip", reason: "app.requirementsFile", requirementsFile: "reqs.txt", requireHashes: false, requiresPython: undefined }],
    ["fails when the explicit requirements file is not in the repository", app("auto", "requirements/prod.txt"),
      { "pyproject.toml": PYPROJECT, "uv.lock": null, "requirements.txt": "django\n" },
      "app.requirementsFile: \"requirements/prod.txt\" is not in the repository. Fix: `npm run pulumi -- config set --path app.requirementsFile <path>` (relative to the repository root)"],
    ["app.install.method uv with its files", app("uv"), { "pyproject.toml": PYPROJECT, "uv.lock": null, "poetry.lock": null },
      { method: "uv", reason: "app.install.method", requireHashes: false, requiresPython: FROM_PYPROJECT }],
    ["app.install.method uv beats an explicit requirements file", app("uv", "requirements.txt"),
      { "pyproject.toml": PYPROJECT, "uv.lock": null, "requirements.txt": "django\n" },
      { method: "uv", reason: "app.install.method", requireHashes: false, requiresPython: FROM_PYPROJECT }],
    ["fails when app.install.method is uv without uv.lock", app("uv"), { "pyproject.toml": PYPROJECT, "poetry.lock": null },
      "app.install.method: \"uv\" needs pyproject.toml and uv.lock at the repository root. Fix: run `uv lock` and commit uv.lock, or choose another method"],
    ["fails when app.install.method is uv without pyproject.toml", app("uv"), { "uv.lock": null },
      "app.install.method: \"uv\" needs pyproject.toml and uv.lock at the repository root. Fix: run `uv lock` and commit uv.lock, or choose another method"],
    ["app.install.method poetry with its files, though uv.lock exists too", app("poetry"),
      { "pyproject.toml": PYPROJECT, "uv.lock": null, "poetry.lock": null },
      { method: "poetry", reason: "app.install.method", requireHashes: false, requiresPython: FROM_PYPROJECT }],
    ["fails when app.install.method is poetry without poetry.lock", app("poetry"), { "pyproject.toml": PYPROJECT, "uv.lock": null },
      "app.install.method: \"poetry\" needs pyproject.toml and poetry.lock at the repository root. Fix: run `poetry lock` and commit poetry.lock, or choose another method"],
    ["app.install.method pip uses requirements.txt though uv.lock exists", app("pip"),
      { "pyproject.toml": PYPROJECT, "uv.lock": null, "requirements.txt": "django\n" },
      { method: "pip", reason: "app.install.method", requirementsFile: "requirements.txt", requireHashes: false, requiresPython: FROM_PYPROJECT }],
    ["app.install.method pip with an explicit requirements file", app("pip", "deploy/requirements.lock"),
      { "deploy/requirements.lock": HASHED },
      { method: "pip", reason: "app.install.method", requirementsFile: "deploy/requirements.lock", requireHashes: true, requiresPython: undefined }],
    ["fails when app.install.method is pip without requirements.txt", app("pip"), { "pyproject.toml": PYPROJECT, "uv.lock": null },
      "app.requirementsFile: \"requirements.txt\" is not in the repository. Fix: `npm run pulumi -- config set --path app.requirementsFile <path>` (relative to the repository root)"],
    ["fails when the repository has pyproject.toml but no lock file", app(), { "pyproject.toml": PYPROJECT, "README.md": null },
      "app.install: the repository has pyproject.toml without a lock file (uv.lock or poetry.lock) at its root, so there is no pinned set of dependencies to install. Fix: commit a lock file (`uv lock`), or set app.requirementsFile to your requirements file"],
    ["fails when the repository has nothing to install from", app(), { "README.md": null, "manage.py": null },
      "app.install: the repository has no pyproject.toml, uv.lock, poetry.lock or requirements.txt at its root, so there is no pinned set of dependencies to install. Fix: commit a lock file (`uv lock`), or set app.requirementsFile to your requirements file"],
  ];
  for (const [name, a, files, expected] of cases) {
    it(name, () => {
      expect(detectPythonProject(a, repo(files))).toEqual(expected);
    });
  }

  it("does not claim a lock file that is there is missing (uv.lock without pyproject.toml)", () => {
    const out = detectPythonProject(app(), repo({ "uv.lock": null }));
    expect(typeof out).toBe("string");
    expect(out).toContain("pyproject.toml");
    // The repository has a uv.lock; the message must not say it has none.
    expect(out).not.toMatch(/no pyproject\.toml, uv\.lock/);
  });
});

describe("requiresPython", () => {
  const cases: Array<[string, Record<string, string | null>, PythonProject["requiresPython"]]> = [
    ["[project] requires-python", { "pyproject.toml": PYPROJECT }, FROM_PYPROJECT],
    ["requires-python in single quotes, spaced, with a comment",
      { "pyproject.toml": "[project]\nname = 'shop'\n  requires-python  =  '>=3.11,<3.14'   # checked on deploy\n" },
      { spec: ">=3.11,<3.14", source: "pyproject.toml [project] requires-python" }],
    ["requires-python under a header with a comment and spaces",
      { "pyproject.toml": "[ project ]  # the package\nrequires-python = \"~=3.12\"\n" },
      { spec: "~=3.12", source: "pyproject.toml [project] requires-python" }],
    ["a requires-python key in another table is not the project's",
      { "pyproject.toml": "[tool.other]\nrequires-python = \">=2.7\"\n[project]\nname = \"shop\"\n" }, undefined],
    ["[project] wins over Poetry's python",
      { "pyproject.toml": `${PYPROJECT}[tool.poetry.dependencies]\npython = "^3.10"\n` }, FROM_PYPROJECT],
    ["Poetry caret ^3.12", { "pyproject.toml": "[tool.poetry.dependencies]\npython-dateutil = \"^2.9\"\npython = \"^3.12\"\n" },
      { spec: ">=3.12,<4", source: "pyproject.toml [tool.poetry.dependencies] python" }],
    ["Poetry caret with a patch ^3.11.4", { "pyproject.toml": "[tool.poetry.dependencies]\npython = \"^3.11.4\"\n" },
      { spec: ">=3.11.4,<4", source: "pyproject.toml [tool.poetry.dependencies] python" }],
    ["Poetry tilde ~3.12", { "pyproject.toml": "[tool.poetry.dependencies]\npython = \"~3.12\"\n" },
      { spec: ">=3.12,<3.13", source: "pyproject.toml [tool.poetry.dependencies] python" }],
    ["Poetry tilde with a patch ~3.12.1", { "pyproject.toml": "[tool.poetry.dependencies]\npython = \"~3.12.1\"\n" },
      { spec: ">=3.12.1,<3.13", source: "pyproject.toml [tool.poetry.dependencies] python" }],
    ["Poetry ~= is PEP 440 already", { "pyproject.toml": "[tool.poetry.dependencies]\npython = \"~=3.12\"\n" },
      { spec: "~=3.12", source: "pyproject.toml [tool.poetry.dependencies] python" }],
    ["Poetry comma set with a caret", { "pyproject.toml": "[tool.poetry.dependencies]\npython = \"^3.10, !=3.11.*\"\n" },
      { spec: ">=3.10,<4,!=3.11.*", source: "pyproject.toml [tool.poetry.dependencies] python" }],
    ["Poetry PEP 440 range passes through", { "pyproject.toml": "[tool.poetry.dependencies]\npython = \">=3.10,<3.14\"\n" },
      { spec: ">=3.10,<3.14", source: "pyproject.toml [tool.poetry.dependencies] python" }],
    // Poetry's own constraint syntax: a bare version is exact, `3.12.*` a wildcard.
    ["Poetry wildcard 3.12.*", { "pyproject.toml": "[tool.poetry.dependencies]\npython = \"3.12.*\"\n" },
      { spec: "==3.12.*", source: "pyproject.toml [tool.poetry.dependencies] python" }],
    ["Poetry bare exact version 3.12.4", { "pyproject.toml": "[tool.poetry.dependencies]\npython = \"3.12.4\"\n" },
      { spec: "==3.12.4", source: "pyproject.toml [tool.poetry.dependencies] python" }],
    ["Poetry's python in a group table is not the project's", { "pyproject.toml": "[tool.poetry.group.dev.dependencies]\npython = \"^3.12\"\n" }, undefined],
    ["Poetry python \"*\" says nothing; .python-version decides",
      { "pyproject.toml": "[tool.poetry.dependencies]\npython = \"*\"\n", ".python-version": "3.13\n" },
      { spec: "==3.13.*", source: ".python-version" }],
    [".python-version with major.minor", { ".python-version": "3.12\n" }, { spec: "==3.12.*", source: ".python-version" }],
    [".python-version with a patch", { ".python-version": "3.12.4" }, { spec: "==3.12.*", source: ".python-version" }],
    [".python-version after comments and blank lines", { ".python-version": "# pinned\n\n  3.13  \n3.12\n" }, { spec: "==3.13.*", source: ".python-version" }],
    [".python-version naming another implementation", { ".python-version": "pypy3.10\n" }, undefined],
    [".python-version with a free-threaded build", { ".python-version": "3.13t\n" }, undefined],
    ["pyproject.toml without requires-python falls back to .python-version",
      { "pyproject.toml": "[project]\nname = \"shop\"\n", ".python-version": "3.11.2\n" },
      { spec: "==3.11.*", source: ".python-version" }],
    ["requires-python wins over .python-version", { "pyproject.toml": PYPROJECT, ".python-version": "3.11\n" }, FROM_PYPROJECT],
    ["nothing declared", { "requirements.txt": "django\n" }, undefined],
  ];
  for (const [name, files, expected] of cases) {
    it(name, () => {
      expect(requiresPython(repo(files))).toEqual(expected);
    });
  }
});

describe("tomlString", () => {
  const toml = [
    "[project]",
    "name = \"shop\"",
    "\"requires-python\" = \">=3.12\"",
    "dependencies = [\"django\"]",
    "",
    "[tool.poetry.dependencies]",
    "python = '^3.12'",
  ].join("\n");
  it("reads a quoted key", () => expect(tomlString(toml, "project", "requires-python")).toBe(">=3.12"));
  it("reads a plain key", () => expect(tomlString(toml, "project", "name")).toBe("shop"));
  it("reads a dotted table", () => expect(tomlString(toml, "tool.poetry.dependencies", "python")).toBe("^3.12"));
  it("is undefined for a value that is not a string", () => expect(tomlString(toml, "project", "dependencies")).toBeUndefined());
  it("is undefined for a key of another table", () => expect(tomlString(toml, "project", "python")).toBeUndefined());
  it("is undefined for a missing table", () => expect(tomlString(toml, "tool.uv", "name")).toBeUndefined());
  it("does not read a key that only starts with the name", () =>
    expect(tomlString("[project]\nnames = \"x\"\n", "project", "name")).toBeUndefined());
  it("treats the dot in a key literally", () =>
    expect(tomlString("[t]\naxb = \"no\"\na.b = \"yes\"\n", "t", "a.b")).toBe("yes"));
});

describe("hasHashes", () => {
  it("finds --hash= on a continuation line", () => expect(hasHashes(HASHED)).toBe(true));
  it("finds --hash with a space", () => expect(hasHashes("django==5.2 --hash sha256:abc\n")).toBe(true));
  it("finds --hash at the start of a line", () => expect(hasHashes("django==5.2 \\\n--hash=sha256:abc\n")).toBe(true));
  it("is false for plain pins", () => expect(hasHashes("django==5.2.4\ncelery[redis]==5.5.3\n")).toBe(false));
  it("is false for an empty file", () => expect(hasHashes("")).toBe(false));
  it("is false for a word that only contains --hash", () => expect(hasHashes("--hashes-are-elsewhere\nfoo--hash=1\n")).toBe(false));
});

describe("satisfies", () => {
  const cases: Array<[string, string, boolean | string]> = [
    ["3.13.5", ">=3.12", true],
    ["3.11.2", ">=3.12", false],
    ["3.12.0", ">=3.12", true],
    ["3.13.5", "<=3.13", false],
    ["3.13.0", "<=3.13", true],
    ["3.13.5", "<=3.13.5", true],
    ["3.13.5", ">3.13", true],
    ["3.13.0", ">3.13", false],
    ["3.13.5", ">3.13.5", false],
    ["3.13.5", "<3.14", true],
    ["3.13.5", "<3.13", false],
    ["3.13.5", "<3.13.6", true],
    ["3.13.5", "==3.13.5", true],
    ["3.13.5", "==3.13", false],
    ["3.13.0", "==3.13", true],
    ["3.13.5", "===3.13.5", true],
    ["3.13.5", "===3.13", false],
    ["3.13.5", "==3.13.*", true],
    ["3.13.5", "==3.*", true],
    ["3.13.5", "==3.12.*", false],
    ["3.13.5", "==3.1.*", false],
    ["3.13.5", "==3.13.5.*", true],
    ["3.13.5", "==3.13.0.*", false],
    ["3.13.5", "!=3.13.*", false],
    ["3.13.5", "!=3.12.*", true],
    ["3.13.5", "!=3.13.5", false],
    ["3.13.5", "!=3.13", true],
    ["3.13.5", "~=3.12", true],
    ["3.13.5", "~=3.13", true],
    ["3.13.5", "~=3.14", false],
    ["3.13.5", "~=3.13.0", true],
    ["3.13.5", "~=3.13.6", false],
    ["3.13.5", "~=3.12.1", false],
    ["2.7.18", "~=3.12", false],
    ["3.13.5", ">=3.10,<3.14", true],
    ["3.14.0", ">=3.10,<3.14", false],
    ["3.13.5", " >= 3.10 , < 4 , != 3.11.* ", true],
    ["3.11.2", ">=3.10,!=3.11.*", false],
    ["3.11.2", ">=3.11.4,<4", false],
    ["3.13.5", ">=3.12,<4", true],
    ["3.13.5", "", true],
    ["3.13.5", "foo", "cannot read the Python version specifier \"foo\""],
    ["3.13.5", ">=3.12,python3", "cannot read the Python version specifier \"python3\""],
    ["3.13.5", "^3.12", "cannot read the Python version specifier \"^3.12\""],
    ["3.13.5", ">=3.13.0rc1", "cannot read the Python version specifier \">=3.13.0rc1\""],
    ["3.13.5", "=>3.12", "cannot read the Python version specifier \"=>3.12\""],
    ["3.13.5", "3.12", "cannot read the Python version specifier \"3.12\""],
    ["3.13.5", "~=3", "~= needs at least two version parts, got \"~=3\""],
    // A set with an unreadable member is unreadable, whichever member comes first.
    ["3.13.5", "<3.0,>=banana", "cannot read the Python version specifier \">=banana\""],
  ];
  it.each(cases.map(([version, spec, expected]) => ({ version, spec, expected })))(
    "$version against $spec is $expected", ({ version, spec, expected }) => {
      expect(satisfies(version, spec)).toBe(expected);
    });
});

describe("filesToRead", () => {
  it("reads pyproject.toml, .python-version and requirements.txt by default", () => {
    expect(filesToRead({ requirementsFile: undefined })).toEqual(["pyproject.toml", ".python-version", "requirements.txt"]);
  });
  it("reads the configured requirements file instead of requirements.txt", () => {
    expect(filesToRead({ requirementsFile: "requirements/prod.txt" })).toEqual(["pyproject.toml", ".python-version", "requirements/prod.txt"]);
  });
});
