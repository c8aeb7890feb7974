import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SETTINGS_PROBE_PY, servedFolders, servedPrefix, type DjangoPaths } from "../../lib/djangoSettings.ts";
import { parseFact } from "../../providers/remoteProbe.ops.ts";

describe("servedPrefix", () => {
  const cases: Array<[string | null, string | undefined]> = [
    ["/static/", "/static/"],
    ["static/", "/static/"],
    ["/static", "/static/"],
    ["static", "/static/"],
    ["/app/static/", "/app/static/"],
    ["/media/", "/media/"],
    ["https://cdn.example/static/", undefined],
    ["http://cdn.example/static/", undefined],
    ["HTTPS://CDN.EXAMPLE/static/", undefined],
    ["s3+https://bucket/x/", undefined],
    ["//cdn/x/", undefined],
    ["/", undefined],
    ["", undefined],
    [null, undefined],
  ];
  it.each(cases.map(([url, expected]) => ({ url, expected })))("$url -> $expected", ({ url, expected }) => {
    expect(servedPrefix(url)).toBe(expected);
  });
});

describe("servedFolders", () => {
  const full: DjangoPaths = {
    staticRoot: "/srv/shop/source/staticfiles",
    staticUrl: "/static/",
    mediaRoot: "/srv/shop/public/media",
    mediaUrl: "media/",
    staticfiles: true,
  };
  const cases: Array<[string, DjangoPaths, "nginx" | "app", ReturnType<typeof servedFolders>]> = [
    ["nginx serves static and media", full, "nginx", {
      static: { url: "/static/", root: "/srv/shop/source/staticfiles" },
      media: { url: "/media/", root: "/srv/shop/public/media" },
    }],
    ["the app serves its static files; nginx still serves media", full, "app", {
      media: { url: "/media/", root: "/srv/shop/public/media" },
    }],
    ["without django.contrib.staticfiles, no static", { ...full, staticfiles: false }, "nginx", {
      media: { url: "/media/", root: "/srv/shop/public/media" },
    }],
    ["STATIC_ROOT unset: no static", { ...full, staticRoot: null }, "nginx", {
      media: { url: "/media/", root: "/srv/shop/public/media" },
    }],
    ["STATIC_URL unset: no static", { ...full, staticUrl: null }, "nginx", {
      media: { url: "/media/", root: "/srv/shop/public/media" },
    }],
    ["STATIC_URL on a CDN: no static", { ...full, staticUrl: "https://cdn.example/static/" }, "nginx", {
      media: { url: "/media/", root: "/srv/shop/public/media" },
    }],
    ["MEDIA_ROOT unset: no media", { ...full, mediaRoot: null }, "nginx", {
      static: { url: "/static/", root: "/srv/shop/source/staticfiles" },
    }],
    ["MEDIA_URL unset: no media", { ...full, mediaUrl: null }, "nginx", {
      static: { url: "/static/", root: "/srv/shop/source/staticfiles" },
    }],
    ["MEDIA_URL on a CDN: no media", { ...full, mediaUrl: "//media.example/" }, "nginx", {
      static: { url: "/static/", root: "/srv/shop/source/staticfiles" },
    }],
    ["MEDIA_URL \"/\" would shadow the app: no media", { ...full, mediaUrl: "/" }, "nginx", {
      static: { url: "/static/", root: "/srv/shop/source/staticfiles" },
    }],
    ["nothing set", { staticRoot: null, staticUrl: null, mediaRoot: null, mediaUrl: null, staticfiles: false }, "nginx", {}],
  ];
  for (const [name, s, mode, expected] of cases) {
    it(name, () => {
      expect(servedFolders(s, mode)).toEqual(expected);
    });
  }
});

describe("SETTINGS_PROBE_PY", () => {
  it("is valid Python", () => {
    const r = spawnSync("python3", ["-c", "import ast,sys; ast.parse(sys.stdin.read())"], { input: SETTINGS_PROBE_PY, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("a broken program fails the same check (the check can fail)", () => {
    const r = spawnSync("python3", ["-c", "import ast,sys; ast.parse(sys.stdin.read())"], { input: `${SETTINGS_PROBE_PY}\n  )`, encoding: "utf8" });
    expect(r.status).not.toBe(0);
  });

  // Run for real with a stand-in `django.conf.settings` in the source folder (the probe
  // puts the current folder first on sys.path), so its output can be checked exactly
  // without Django installed.
  describe("run against stand-in settings", () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "fleet-settings-")));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    let n = 0;
    /** Runs the probe in a new source folder; returns that folder and what the probe printed. */
    function probeWith(settingsBody: string): { src: string; out: string } {
      const src = join(dir, `src${n++}`);
      mkdirSync(join(src, "django"), { recursive: true });
      writeFileSync(join(src, "django", "__init__.py"), "");
      writeFileSync(join(src, "django", "conf.py"), `import pathlib\nclass _Settings:\n${settingsBody}\nsettings = _Settings()\n`);
      const out = execFileSync("python3", ["-c", SETTINGS_PROBE_PY], { cwd: src, encoding: "utf8", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
      return { src, out };
    }

    it("prints absolute roots (relative and pathlib ones resolved against the source folder) and the URLs", () => {
      const { src, out } = probeWith([
        "    print('settings module noise')",
        "    STATIC_ROOT = pathlib.Path('staticfiles')",
        "    STATIC_URL = '/static/'",
        "    MEDIA_ROOT = '/srv/shop/public/media/'",
        "    MEDIA_URL = 'https://cdn.example/media/'",
        "    INSTALLED_APPS = ['django.contrib.admin', 'django.contrib.staticfiles']",
      ].join("\n"));
      const lines = out.trimEnd().split("\n");
      expect(lines[0]).toBe("settings module noise");
      expect(lines[lines.length - 1]!.startsWith("FLEET_FACT=")).toBe(true);
      expect(parseFact(out)).toEqual({
        staticRoot: `${src}/staticfiles`,
        staticUrl: "/static/",
        mediaRoot: "/srv/shop/public/media",
        mediaUrl: "https://cdn.example/media/",
        staticfiles: true,
      });
    });

    it("prints null for unset and empty settings, and staticfiles false without the app", () => {
      const { out } = probeWith([
        "    MEDIA_ROOT = ''",
        "    STATIC_URL = None",
        "    INSTALLED_APPS = ['django.contrib.admin']",
      ].join("\n"));
      expect(parseFact(out)).toEqual({ staticRoot: null, staticUrl: null, mediaRoot: null, mediaUrl: null, staticfiles: false });
    });
  });
});

describe("parseFact", () => {
  it("reads the JSON after FLEET_FACT=", () => {
    expect(parseFact('FLEET_FACT={"a":1,"b":[true,null]}\n')).toEqual({ a: 1, b: [true, null] });
  });
  it("ignores noise before the line", () => {
    expect(parseFact("Warning: something\nDEBUG on\nFLEET_FACT=\"x\"\n")).toBe("x");
  });
  it("takes the last FLEET_FACT= line", () => {
    expect(parseFact('FLEET_FACT={"v":1}\nnoise\nFLEET_FACT={"v":2}\nmore noise\n')).toEqual({ v: 2 });
  });
  it("reads a line without a trailing newline", () => {
    expect(parseFact("FLEET_FACT=42")).toBe(42);
  });
  it("throws when no line has the marker", () => {
    expect(() => parseFact("Traceback (most recent call last):\n  ImportError\n")).toThrow("the probe printed no FLEET_FACT= line");
  });
  it("throws on empty output", () => {
    expect(() => parseFact("")).toThrow("the probe printed no FLEET_FACT= line");
  });
  it("does not take a marker in the middle of a line", () => {
    expect(() => parseFact("echo FLEET_FACT={}\n")).toThrow("the probe printed no FLEET_FACT= line");
  });
  it("throws on a marker line whose value is not JSON", () => {
    expect(() => parseFact("FLEET_FACT={not json\n")).toThrow(SyntaxError);
  });
});
