/**
 * App records (config/appRecords.ts): the database host keeps one file per deployed app;
 * the host facts read them back (fleet_app lines), and an app recorded there that the
 * config no longer names is a removed app, which the preview warns about.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { APP_RECORD_DIR, appRecord, appRecordPath, removedAppNote, removedApps } from "../../config/appRecords.ts";
import { parseConfig } from "../../config/load.ts";
import { parseHostFacts, pinnedFacts, RELEASES, type HostFacts } from "../../config/releases.ts";
import { buildTopology } from "../../config/topology.ts";
import { FACTS_SCRIPT } from "../../lib/hostFacts.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const DEBIAN_13 = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n';

function app(name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, repo: `git://x/${name}.git`, settingsModule: `${name}.settings`, wsgiModule: `${name}.wsgi:application`, domains: [`${name}.example`], ...over };
}

/** A split fleet (the db on its own host) running `apps`. */
function topology(apps: Array<Record<string, unknown>>) {
  const cfg = parseConfig(Object.fromEntries(Object.entries({
    hosts: [
      { name: "web", address: "10.0.0.1", hostKey: KEY, roles: ["loadBalancer", "app", "worker", "beat", "broker"] },
      { name: "db", address: "10.0.0.2", hostKey: KEY, roles: ["db"] },
    ],
    apps,
    sshPrivateKeyPath: "/k",
  }).map(([k, v]) => [`django-fleet:${k}`, JSON.stringify(v)])));
  return buildTopology(cfg);
}

function facts(byHost: Record<string, HostFacts>): Map<string, HostFacts> {
  return new Map(Object.entries(byHost));
}

const withApps = (apps: HostFacts["apps"]): HostFacts => ({ release: RELEASES.debian13, python: "3.13.5", apps });

describe("the record", () => {
  it("is /etc/django-fleet/apps/<app>.app, holding the app's database name", () => {
    expect(APP_RECORD_DIR).toBe("/etc/django-fleet/apps");
    expect(appRecordPath("blog")).toBe("/etc/django-fleet/apps/blog.app");
    expect(appRecord({ database: { name: "blog_db", user: "blog" } })).toBe("blog_db\n");
  });
});

describe("removedApps", () => {
  const topo = topology([app("shop"), app("blog", { database: { name: "blog_db" } })]);

  const cases: Array<[string, Map<string, HostFacts>, Array<{ name: string; database: string }>]> = [
    ["no records yet (a fresh database host)", facts({ db: withApps([]) }), []],
    ["the records of exactly the apps in the config", facts({ db: withApps([{ name: "blog", database: "blog_db" }, { name: "shop", database: "shop" }]) }), []],
    ["a recorded app the config no longer names", facts({ db: withApps([{ name: "blog", database: "blog_db" }, { name: "shop", database: "shop" }, { name: "wiki", database: "wiki_data" }]) }),
      [{ name: "wiki", database: "wiki_data" }]],
    ["several removed apps, in the order the host listed them", facts({ db: withApps([{ name: "old2", database: "o2" }, { name: "shop", database: "shop" }, { name: "old1", database: "o1" }]) }),
      [{ name: "old2", database: "o2" }, { name: "old1", database: "o1" }]],
    // An app is named by its name; a record with another database is still that app.
    ["a configured app whose record names another database is not removed", facts({ db: withApps([{ name: "shop", database: "legacy" }]) }), []],
    ["records on another host than the database host are not read", facts({ web: withApps([{ name: "wiki", database: "wiki" }]), db: withApps([]) }), []],
    ["facts without records (a pinned release: nothing was read)", facts({ db: pinnedFacts("debian13") }), []],
    ["no facts at all for the database host", facts({}), []],
  ];
  for (const [name, f, expected] of cases) {
    it(name, () => expect(removedApps(topo, f)).toEqual(expected));
  }

  it("with the `app` shorthand too", () => {
    const one = topology([app("shop")]);
    expect(removedApps(one, facts({ db: withApps([{ name: "shop", database: "shop" }, { name: "blog", database: "blog" }]) }))).toEqual([{ name: "blog", database: "blog" }]);
  });
});

describe("removedAppNote", () => {
  it("PostgreSQL: says what goes, that the database stays, and how to drop it by hand", () => {
    expect(removedAppNote({ name: "wiki", database: "wiki_data" }, "postgresql")).toBe(
      'app "wiki" is no longer in the config: this update stops and removes its units, its virtual host and its broker user. '
      + 'Its database "wiki_data" is kept, with its data (databases are never dropped by django-fleet); once you no longer need it, '
      + "drop it by hand on the database host: sudo -u postgres dropdb wiki_data");
  });

  it("MariaDB: the same, with MariaDB's command", () => {
    expect(removedAppNote({ name: "wiki", database: "wiki_data" }, "mariadb")).toBe(
      'app "wiki" is no longer in the config: this update stops and removes its units, its virtual host and its broker user. '
      + 'Its database "wiki_data" is kept, with its data (databases are never dropped by django-fleet); once you no longer need it, '
      + "drop it by hand on the database host: mariadb -e 'DROP DATABASE wiki_data'");
  });
});

describe("parseHostFacts: fleet_app lines", () => {
  const parse = (lines: string[]) => {
    const f = parseHostFacts(`${DEBIAN_13}python3=3.13.5\n${lines.join("\n")}\n`);
    if (typeof f === "string") throw new Error(f);
    return f.apps;
  };

  it("reads each record, in order", () => {
    expect(parse(["fleet_app=blog blog_db", "fleet_app=shop shop"])).toEqual([{ name: "blog", database: "blog_db" }, { name: "shop", database: "shop" }]);
  });

  it("reads records with trailing blanks and CRLF ends", () => {
    expect(parse(["fleet_app=blog blog_db  ", "fleet_app=shop shop\r"])).toEqual([{ name: "blog", database: "blog_db" }, { name: "shop", database: "shop" }]);
  });

  it("no records: an empty list", () => {
    expect(parse([])).toEqual([]);
  });

  const malformed: Array<[string, string]> = [
    ["no database", "fleet_app=shop"],
    ["an empty database", "fleet_app=shop "],
    ["two words for the database", "fleet_app=shop shop extra"],
    ["an app name in capitals", "fleet_app=Shop shop"],
    ["an app name starting with a digit", "fleet_app=1shop shop"],
    ["an app name with a dash", "fleet_app=my-shop shop"],
    ["an app name of 32 characters (the schema allows 31)", `fleet_app=${"a".repeat(32)} shop`],
    ["a database name with a dash", "fleet_app=shop shop-db"],
    ["a database name starting with a digit", "fleet_app=shop 1shop"],
    ["a database name with a quote (shell or SQL)", "fleet_app=shop shop';DROP"],
    ["an indented line", " fleet_app=shop shop"],
    ["another key", "fleet_apps=shop shop"],
    ["two records on one line", "fleet_app=shop shop fleet_app=blog blog"],
    ["the empty record of a truncated file", "fleet_app= "],
  ];
  for (const [name, line] of malformed) {
    it(`ignores a line with ${name}`, () => {
      expect(parse([line])).toEqual([]);
      // ...and still reads the good records around it.
      expect(parse(["fleet_app=blog blog", line, "fleet_app=shop shop"])).toEqual([{ name: "blog", database: "blog" }, { name: "shop", database: "shop" }]);
    });
  }

  it("the longest names the schema allows are read", () => {
    const name = `a${"b".repeat(30)}`;
    const db = `d${"e".repeat(62)}`;
    expect(parse([`fleet_app=${name} ${db}`])).toEqual([{ name, database: db }]);
  });
});

// The probe lib/hostFacts.ts runs on each host, pointed at a local folder of records.
describe("FACTS_SCRIPT reads the records", () => {
  const dir = mkdtempSync(join(tmpdir(), "fleet-records-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "os-release"), DEBIAN_13);
  const probe = (records: string) => FACTS_SCRIPT.replace("/etc/os-release", join(dir, "os-release")).replace(APP_RECORD_DIR, records);
  const run = (records: string) => execFileSync("bash", ["-euo", "pipefail", "-s"], { input: probe(records), encoding: "utf8" });
  const python = execFileSync("python3", ["-c", "import platform; print(platform.python_version())"], { encoding: "utf8" }).trim();

  it("is pointed at the test's folders", () => {
    expect(FACTS_SCRIPT).toContain(`${APP_RECORD_DIR}/*.app`);
    expect(probe("/x")).not.toContain(APP_RECORD_DIR);
  });

  it("prints one fleet_app line per record file, as appRecord wrote it, and skips other entries", () => {
    const records = join(dir, "apps");
    mkdirSync(records);
    writeFileSync(join(records, "shop.app"), appRecord({ database: { name: "shop", user: "shop" } }));
    writeFileSync(join(records, "blog.app"), appRecord({ database: { name: "blog_db", user: "blog" } }));
    writeFileSync(join(records, "notes.txt"), "not a record\n");
    mkdirSync(join(records, "folder.app"));
    const out = run(records);
    expect(out).toBe(`${DEBIAN_13}python3=${python}\nfleet_app=blog blog_db\nfleet_app=shop shop\n`);
    expect(parseHostFacts(out)).toEqual({ release: RELEASES.debian13, python, apps: [{ name: "blog", database: "blog_db" }, { name: "shop", database: "shop" }] });
  });

  it("an empty or missing folder prints no record, and the script still succeeds", () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    expect(run(empty)).toBe(`${DEBIAN_13}python3=${python}\n`);
    expect(run(join(dir, "missing"))).toBe(`${DEBIAN_13}python3=${python}\n`);
  });
});
