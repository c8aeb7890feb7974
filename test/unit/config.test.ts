import { describe, expect, it } from "vitest";
import { ConfigError, distance, parseConfig } from "../../config/load.ts";
import { resolveApps } from "../../config/apps.ts";

/** A valid dev config as Pulumi hands it to the program (objects as JSON strings). */
function raw(over: Record<string, unknown> = {}): Record<string, string> {
  const base: Record<string, unknown> = {
    hosts: [{ name: "web", address: "10.0.0.1", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC", roles: ["app", "db", "broker", "worker", "beat"] }],
    app: { name: "shop", repo: "git://x/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application" },
    sshPrivateKeyPath: "/root/.ssh/id",
    ...over,
  };
  return Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined).map(([k, v]) =>
    [`django-fleet:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
}

function problems(r: Record<string, string>): string[] {
  try {
    parseConfig(r);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("fills in every default", () => {
    const c = parseConfig(raw());
    expect(c.app!.ref).toBe("main");
    // The port is resolved per app (config/apps.ts): 8000 for the `app` shorthand.
    expect(c.app!.port).toBeUndefined();
    expect(c.apps).toBeUndefined();
    const problems: string[] = [];
    expect(resolveApps(c, problems).map((a) => [a.key, a.port, a.portSet])).toEqual([["app", 8000, false]]);
    expect(problems).toEqual([]);
    expect(c.app!.gunicorn).toEqual({ workers: 3, timeoutSeconds: 30, maxRequests: 1000 });
    expect(c.app!.envNames.databaseUrl).toBe("DATABASE_URL");
    expect(c.broker.kind).toBe("rabbitmq");
    expect(c.celery).toEqual({ concurrency: 2, queues: ["celery"] });
    expect(c.loadBalancer).toEqual({ serverName: "_", tls: "none" });
    expect(c.logging).toEqual({ retentionDays: 14, port: 10514 });
    expect(c.hosts[0]!.port).toBeUndefined(); // from the inventory, else 22 (topology)
    expect(c.protectData).toBe(false);
  });

  it("ignores other namespaces and reads the legacy ns:config:key form", () => {
    const r = raw();
    r["aws:region"] = "eu-west-1";
    r["django-fleet:config:protectData"] = "true";
    expect(parseConfig(r).protectData).toBe(true);
  });

  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["fails when app is missing", { app: undefined },
      "app: is required (or apps, a list of apps). Fix: `npm run pulumi -- config set --path 'app' <value>`"],
    ["fails when gunicorn workers is not a number", { app: { name: "shop", repo: "https://git.example/shop.git", settingsModule: "s.settings", wsgiModule: "s.wsgi:app", gunicorn: { workers: "four" } } },
      "app.gunicorn.workers: expected number, received string, got \"four\". Fix: `npm run pulumi -- config set --path 'app.gunicorn.workers' <value>`"],
    ["fails when gunicorn workers is zero", { app: { name: "shop", repo: "https://git.example/shop.git", settingsModule: "s.settings", wsgiModule: "s.wsgi:app", gunicorn: { workers: 0 } } },
      "app.gunicorn.workers: Too small: expected number to be >=1, got 0. Fix: `npm run pulumi -- config set --path 'app.gunicorn.workers' <value>`"],
    ["fails on an unknown key (a typo)", { app: { name: "shop", repo: "https://git.example/shop.git", settingsModule: "s.settings", wsgiModule: "s.wsgi:app", gunicron: {} } },
      "app.gunicron: unknown key. Fix: remove it (`npm run pulumi -- config rm --path 'app.gunicron'`) or correct its spelling"],
    ["fails on an unknown top-level key", { databse: {} },
      "databse: unknown key. Fix: remove it (`npm run pulumi -- config rm --path 'databse'`) or correct its spelling"],
    ["fails on an unknown role", { hosts: [{ name: "web", roles: ["webserver"] }] },
      "hosts[0].roles[0]: Invalid option: expected one of \"loadBalancer\"|\"app\"|\"worker\"|\"beat\"|\"db\"|\"dbReplica\"|\"broker\"|\"cache\"|\"logging\", got \"webserver\". Fix: `npm run pulumi -- config set --path 'hosts[0].roles[0]' <value>`"],
    ["fails on a bad wsgi path", { app: { name: "shop", repo: "https://git.example/shop.git", settingsModule: "s.settings", wsgiModule: "s.wsgi" } },
      "app.wsgiModule: must be `module.path:attribute`, got \"s.wsgi\". Fix: `npm run pulumi -- config set --path 'app.wsgiModule' <value>`"],
    ["fails on an app name that is not an identifier", { app: { name: "My-Shop", repo: "https://git.example/shop.git", settingsModule: "s.settings", wsgiModule: "s.wsgi:app" } },
      "app.name: must be lower-case letters, digits and underscores, starting with a letter (it names a user and units), got \"My-Shop\". Fix: `npm run pulumi -- config set --path 'app.name' <value>`"],
    ["fails on a broker kind we do not support", { broker: { kind: "sqs" } },
      "broker.kind: Invalid option: expected one of \"rabbitmq\"|\"redis\", got \"sqs\". Fix: `npm run pulumi -- config set --path 'broker.kind' <value>`"],
    ["fails on a malformed host key", { hosts: [{ name: "web", hostKey: "AAAA", roles: ["app"] }] },
      "hosts[0].hostKey: must be `TYPE BASE64` as in known_hosts, got \"AAAA\". Fix: `npm run pulumi -- config set --path 'hosts[0].hostKey' <value>`"],
  ];
  for (const [name, over, message] of cases) {
    it(name, () => {
      expect(problems(raw(over))).toContain(message);
    });
  }

  it("lists every problem at once and says nothing was changed", () => {
    try {
      parseConfig(raw({ broker: { kind: "sqs" }, celery: { concurrency: -1 } }));
      throw new Error("expected a ConfigError");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      expect(msg).toMatch(/^django-fleet: the stack config is invalid; nothing was changed on any server\./);
      expect((e as ConfigError).problems).toHaveLength(2);
    }
  });
});

describe("namespace distance: swaps count one edit; real namespaces stay far", () => {
  it.each([
    ["django-fleet", 0], ["django-flet", 1], ["djnago-fleet", 1], ["djnago-felt", 3], ["django_fleet", 1],
  ] as const)("%s is %i edits from django-fleet", (ns, n) => {
    expect(distance(ns, "django-fleet")).toBe(n);
  });
  it.each(["aws", "pulumi", "command", "random", "gcp", "azure-native", "kubernetes"])("%s is more than 4 edits away", (ns) => {
    expect(distance(ns, "django-fleet")).toBeGreaterThan(4);
  });
});
