/**
 * The app layout's scripts (services/app/appLayout.ts), RUN with bash against stand-ins
 * for the system commands on PATH: the tables give what the host holds (the account,
 * www-data's groups, /srv/<app>'s mode and group, whether nginx runs) and expect the
 * commands the script runs, or the check's verdict.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appRootStat, layoutCheck, layoutRead, layoutScript, layoutState } from "../../services/app/appLayout.ts";

const DIRS: string[] = [];
afterAll(() => { for (const d of DIRS) rmSync(d, { recursive: true, force: true }); });

/** What the host holds, as the stand-ins report it. */
interface HostState {
  /** The app's account exists, with this home (absent: no account). */
  readonly home?: string;
  /** `id -nG www-data`. */
  readonly wwwDataGroups: string;
  /** `stat -c '%a %U %G' /srv/<app>`. */
  readonly rootStat?: string;
  /** nginx.service is active. */
  readonly nginxActive?: boolean;
  /** The account's shell. @default /usr/sbin/nologin */
  readonly shell?: string;
}

/**
 * Runs `body` under `bash -euo pipefail` with stand-ins that log each call (`runuser` by
 * its user only: what it runs is the app user's business) and answer from `host`.
 */
function run(body: string, host: HostState): { code: number; calls: string[]; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "fleet-layout-"));
  DIRS.push(dir);
  const log = join(dir, "calls");
  writeFileSync(log, "");
  const answers: Record<string, string> = {
    id: `if [ "$1" = -u ]; then ${host.home === undefined ? "exit 1" : "exit 0"}; fi\nif [ "$1" = -nG ]; then echo ${JSON.stringify(host.wwwDataGroups)}; fi`,
    getent: `echo "app:x:998:998::${host.home ?? ""}:${host.shell ?? "/usr/sbin/nologin"}"`,
    stat: `echo ${JSON.stringify(host.rootStat ?? "")}`,
    systemctl: `if [ "$1" = is-active ]; then ${host.nginxActive ? "exit 0" : "exit 3"}; fi`,
    test: "exit 0",
  };
  for (const name of ["id", "getent", "stat", "systemctl", "test", "useradd", "install", "chown", "chmod", "gpasswd", "nginx", "usermod"]) {
    const f = join(dir, name);
    const logged = name === "id" || name === "getent" || name === "stat" || name === "test" ? "" : `echo "${name} $*" >> ${log}\n`;
    writeFileSync(f, `#!/bin/bash\n${logged}${answers[name] ?? ""}\n`);
    chmodSync(f, 0o755);
  }
  const prelude = `runuser() { echo "runuser -u $2" >> ${log}; }\n`;
  // `test` is a shell builtin: the stand-in is reached through a function.
  const shimTest = `test() { ${join(dir, "test")} "$@"; }\n`;
  const r = spawnSync("bash", ["-euo", "pipefail", "-s"], { input: prelude + shimTest + body, encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
  return { code: r.status ?? -1, calls: readFileSync(log, "utf8").split("\n").filter(Boolean), stderr: r.stderr };
}

const MAKE = [
  "install -d -o blog -g www-data -m 0710 /srv/blog",
  "install -d -o blog -g blog -m 0750 /var/lib/blog",
  "chown blog:www-data /srv/blog",
  "chmod 0710 /srv/blog",
  "chmod 0750 /var/lib/blog",
  "runuser -u blog",
];
const TAKE_BACK = ["gpasswd -d www-data blog"];
const RELOAD = ["systemctl is-active --quiet nginx", "nginx -t -q", "systemctl reload nginx"];

describe("the app layout script", () => {
  it.each<[string, HostState, string[]]>([
    ["a bare host: the user is made, nginx is not in its group", { wwwDataGroups: "www-data" },
      ["useradd --system --user-group --home-dir /srv/blog --shell /usr/sbin/nologin -- blog", ...MAKE]],
    ["a second run: the same folders, nothing taken back", { home: "/srv/blog", wwwDataGroups: "www-data", nginxActive: true }, MAKE],
    ["a host of an older layout, nginx running: the group taken back, nginx reloaded so its workers drop it",
      { home: "/srv/blog", wwwDataGroups: "www-data fleetdemo blog", nginxActive: true }, [...MAKE, ...TAKE_BACK, ...RELOAD]],
    ["a host of an older layout, nginx not running (an app-only host): the group taken back, no reload",
      { home: "/srv/blog", wwwDataGroups: "www-data blog" }, [...MAKE, ...TAKE_BACK, "systemctl is-active --quiet nginx"]],
    ["a login shell given by hand: taken back", { home: "/srv/blog", wwwDataGroups: "www-data", shell: "/bin/bash" },
      ["usermod --shell /usr/sbin/nologin -- blog", ...MAKE]],
    ["www-data in another app's group only, whose name starts alike: nothing taken back",
      { home: "/srv/blog", wwwDataGroups: "www-data blogs blog2", nginxActive: true }, MAKE],
  ])("%s", (_name, host, calls) => {
    const r = run(layoutScript("blog"), host);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(calls);
  });

  it("an account that exists with another home is not ours: nothing is made", () => {
    const r = run(layoutScript("blog"), { home: "/home/blog", wwwDataGroups: "www-data blog" });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("exists already (home /home/blog) and was not made by django-fleet");
    expect(r.calls).toEqual([]);
  });
});

describe("the app layout check (refresh)", () => {
  it.each<[string, HostState, number]>([
    ["in place", { home: "/srv/blog", wwwDataGroups: "www-data", rootStat: "710 blog www-data" }, 0],
    ["www-data in other apps' groups only", { home: "/srv/blog", wwwDataGroups: "www-data fleetdemo blogs", rootStat: "710 blog www-data" }, 0],
    ["the older layout's mode and group", { home: "/srv/blog", wwwDataGroups: "www-data", rootStat: "750 blog blog" }, 1],
    ["readable by every user", { home: "/srv/blog", wwwDataGroups: "www-data", rootStat: "755 blog www-data" }, 1],
    ["given to another owner", { home: "/srv/blog", wwwDataGroups: "www-data", rootStat: "710 root www-data" }, 1],
    ["nginx back in the app's group", { home: "/srv/blog", wwwDataGroups: "www-data blog", rootStat: "710 blog www-data" }, 1],
    ["the user gone", { wwwDataGroups: "www-data", rootStat: "710 blog www-data" }, 1],
  ])("%s: exit %i", (_name, host, code) => {
    expect(run(layoutCheck("blog"), host).code).toBe(code);
  });

  it("expects what the script makes", () => {
    expect(appRootStat("blog")).toBe("710 blog www-data");
    expect(layoutScript("blog")).toContain("install -d -o blog -g www-data -m 0710 /srv/blog\n");
  });
});

describe("the app layout read (refresh): the layout as found, line by line", () => {
  /** What the host holds: the account's passwd line (absent: none), each folder's `%F|%a %U %G`, www-data's groups. */
  interface Found { passwd?: string; folders: Record<string, string>; wwwDataGroups: string }
  const readOn = (f: Found) => {
    const dir = mkdtempSync(join(tmpdir(), "fleet-layout-read-"));
    DIRS.push(dir);
    writeFileSync(join(dir, "folders"), Object.entries(f.folders).map(([p, v]) => `${p}|${v}`).join("\n") + "\n");
    const stubs: Record<string, string> = {
      getent: f.passwd === undefined ? "exit 2" : `echo ${JSON.stringify(f.passwd)}`,
      id: `if [ "$1" = -nG ]; then echo ${JSON.stringify(f.wwwDataGroups)}; else exit 1; fi`,
      // stat -c FORMAT -- PATH: %F gives the kind, the other format the rest.
      stat: `line=$(grep -F "$4|" ${dir}/folders) || exit 1\nv=\${line#*|}\nif [ "$2" = %F ]; then echo "\${v%%|*}"; else echo "\${v#*|}"; fi`,
    };
    for (const [name, body] of Object.entries(stubs)) { writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`); chmodSync(join(dir, name), 0o755); }
    const r = spawnSync("bash", ["-euo", "pipefail", "-s"], { input: layoutRead("blog"), encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
    return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
  };
  const WANT = layoutState("blog");
  const asWanted = (): Found => ({
    passwd: "blog:x:998:998::/srv/blog:/usr/sbin/nologin",
    wwwDataGroups: "www-data",
    folders: Object.fromEntries(WANT.split("\n").filter((l) => l.startsWith("folder ")).map((l) => {
      const [, path, mode, owner, group] = l.split(" ") as [string, string, string, string, string];
      return [path, `directory|${mode.replace(/^0/, "")} ${owner} ${group}`];
    })),
  });
  const swap = (from: string, to: string) => WANT.split("\n").map((l) => (l === from ? to : l)).join("\n");
  it.each<[string, (f: Found) => Found, string]>([
    ["as wanted", (f) => f, WANT],
    ["a login shell given by hand", (f) => ({ ...f, passwd: "blog:x:998:998::/srv/blog:/bin/bash" }),
      swap("user blog home=/srv/blog shell=/usr/sbin/nologin", "user blog home=/srv/blog shell=/bin/bash")],
    ["the user gone", (f) => ({ ...f, passwd: undefined }), swap("user blog home=/srv/blog shell=/usr/sbin/nologin", "user blog absent")],
    ["the home readable by all", (f) => ({ ...f, folders: { ...f.folders, "/srv/blog": "directory|755 blog www-data" } }),
      swap("folder /srv/blog 0710 shop www-data".replace("shop", "blog"), "folder /srv/blog 0755 blog www-data")],
    ["a setgid mode keeps its four digits", (f) => ({ ...f, folders: { ...f.folders, "/var/lib/blog": "directory|2750 blog blog" } }),
      swap("folder /var/lib/blog 0750 blog blog", "folder /var/lib/blog 2750 blog blog")],
    ["media given to root", (f) => ({ ...f, folders: { ...f.folders, "/srv/blog/public/media": "directory|755 root root" } }),
      swap("folder /srv/blog/public/media 0755 blog blog", "folder /srv/blog/public/media 0755 root root")],
    ["static swapped for a link", (f) => ({ ...f, folders: { ...f.folders, "/srv/blog/public/static": "symbolic link|777 blog blog" } }),
      swap("folder /srv/blog/public/static 0755 blog blog", "folder /srv/blog/public/static is a symbolic link")],
    ["the log folder gone", (f) => { const { ["/srv/blog/log"]: _gone, ...rest } = f.folders; return { ...f, folders: rest }; },
      swap("folder /srv/blog/log 0755 blog blog", "folder /srv/blog/log absent")],
    ["nginx back in the app's group", (f) => ({ ...f, wwwDataGroups: "www-data blog" }), swap("www-data not in group blog", "www-data in group blog")],
    ["nginx in another app's group only", (f) => ({ ...f, wwwDataGroups: "www-data blogs" }), WANT],
  ])("%s", (_name, edit, want) => {
    const r = readOn(edit(asWanted()));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(want);
  });
  it("the wanted state: the user, every folder the script makes, nginx outside the group", () => {
    expect(WANT.split("\n")).toEqual([
      "user blog home=/srv/blog shell=/usr/sbin/nologin",
      "folder /srv/blog 0710 blog www-data", "folder /var/lib/blog 0750 blog blog", "folder /srv/blog/releases 0750 blog blog",
      "folder /srv/blog/log 0755 blog blog", "folder /srv/blog/public 0755 blog blog", "folder /srv/blog/public/static 0755 blog blog",
      "folder /srv/blog/public/media 0755 blog blog", "folder /srv/blog/shared 0755 blog blog", "www-data not in group blog",
    ]);
  });
});
