import { describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderMariaDbConf } from "../../services/mariadb/mariadb.ts";
import { packagesFor } from "../../config/packages.ts";
import { parseConfig } from "../../config/load.ts";
import { databaseUrl } from "../../config/environment.ts";

function golden(name: string, out: string) {
  const file = join(import.meta.dirname, "golden", `${name}.txt`);
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, out);
  expect(existsSync(file), `missing ${file}: run with UPDATE_GOLDEN=1 to create it`).toBe(true);
  expect(out).toBe(readFileSync(file, "utf8"));
}

function cfg(database: Record<string, unknown>) {
  return parseConfig({
    "django-fleet:hosts": JSON.stringify([{ name: "a", roles: ["app"] }]),
    "django-fleet:app": JSON.stringify({ name: "shop", repo: "https://git.example/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application" }),
    "django-fleet:database": JSON.stringify(database),
  });
}

describe("MariaDB", () => {
  it("renders the primary's config", () => golden("mariadb-primary", renderMariaDbConf({ bindAddresses: ["127.0.0.1", "10.0.0.5"], serverId: 1 })));
  it("renders a replica's config: read-only with a relay log", () => {
    const out = renderMariaDbConf({ bindAddresses: ["127.0.0.1", "10.0.0.6"], serverId: 2, replica: true, port: 3307 });
    golden("mariadb-replica", out);
    expect(out).toContain("read_only = ON");
    expect(out).toContain("server-id = 2");
  });
  it("fails on a server id of 0 (replication needs ids from 1)", () => {
    expect(() => renderMariaDbConf({ bindAddresses: ["127.0.0.1"], serverId: 0 })).toThrow(/serverId/);
  });
  it("defaults the port by engine", () => {
    expect(cfg({ engine: "mariadb" }).database.port).toBe(3306);
    expect(cfg({}).database.port).toBe(5432);
    expect(cfg({ engine: "mariadb", port: 3307 }).database.port).toBe(3307);
  });
  it("installs mariadb-server on database hosts and the driver's build tools on code hosts", () => {
    const c = cfg({ engine: "mariadb" });
    expect(packagesFor(new Set(["db"]), c)).toContain("mariadb-server");
    expect(packagesFor(new Set(["db"]), c)).not.toContain("postgresql");
    expect(packagesFor(new Set(["app"]), c)).toEqual(expect.arrayContaining(["build-essential", "pkg-config", "default-libmysqlclient-dev"]));
    expect(packagesFor(new Set(["app"]), cfg({}))).not.toContain("build-essential");
  });
  it("gives the app a mysql:// DATABASE_URL", () => {
    const c = cfg({ engine: "mariadb" });
    expect(databaseUrl(c, { secretKey: "k", dbPassword: "p w", brokerPassword: "b", dbHost: "10.0.0.5", brokerHost: "x", dbName: "shop", dbUser: "shop" }))
      .toBe("mysql://shop:p%20w@10.0.0.5:3306/shop");
  });
});
