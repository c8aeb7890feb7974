import { describe, expect, it } from "vitest";
import { allowedHosts, appEnvironment, type EnvironmentInputs } from "../../config/environment.ts";
import { parseConfig } from "../../config/load.ts";
import type { StackConfig } from "../../config/schema.ts";

describe("allowedHosts", () => {
  const cases: Array<[string, string, string[], string, string]> = [
    ["any name (\"_\") is *", "_", ["10.0.0.5"], ",", "*"],
    ["names, own addresses and loopback, comma-separated", "shop.example 203.0.113.7", ["10.0.0.5"], ",",
      "shop.example,203.0.113.7,10.0.0.5,localhost,127.0.0.1"],
    ["no own addresses", "shop.example", [], ",", "shop.example,localhost,127.0.0.1"],
    ["several own addresses", "shop.example", ["10.0.0.5", "203.0.113.9"], ",", "shop.example,10.0.0.5,203.0.113.9,localhost,127.0.0.1"],
    ["duplicates removed, first place kept", "localhost shop.example shop.example 10.0.0.5", ["10.0.0.5", "127.0.0.1"], ",",
      "localhost,shop.example,10.0.0.5,127.0.0.1"],
    ["runs of whitespace (tabs, newlines) between names", "  shop.example\t www.shop.example\n", [], ",",
      "shop.example,www.shop.example,localhost,127.0.0.1"],
    ["\"_\" among other names is dropped", "_ shop.example", [], ",", "shop.example,localhost,127.0.0.1"],
    ["space separator", "shop.example", ["10.0.0.5"], " ", "shop.example 10.0.0.5 localhost 127.0.0.1"],
    ["semicolon separator", "shop.example", ["10.0.0.5"], ";", "shop.example;10.0.0.5;localhost;127.0.0.1"],
    ["colon separator", "shop.example", [], ":", "shop.example:localhost:127.0.0.1"],
    ["pipe separator", "a.example b.example", [], "|", "a.example|b.example|localhost|127.0.0.1"],
    ["a leading-dot name is Django's subdomain form already", ".shop.example", [], ",", ".shop.example,localhost,127.0.0.1"],
    // nginx's "*.shop.example" is Django's ".shop.example"; Django compares "*.shop.example"
    // literally and answers every request 400 Bad Request.
    ["an nginx wildcard name becomes Django's subdomain form", "*.shop.example", [], ",", ".shop.example,localhost,127.0.0.1"],
    // Django keeps the brackets of an IPv6 Host header ("[fd00::5]") and compares that.
    ["an IPv6 own address is written in brackets, as Django compares it", "shop.example", ["fd00::5"], ",",
      "shop.example,[fd00::5],localhost,127.0.0.1"],
  ];
  it.each(cases.map(([name, serverName, own, sep, expected]) => ({ name, serverName, own, sep, expected })))(
    "$name", ({ serverName, own, sep, expected }) => {
      expect(allowedHosts(serverName, own, sep)).toBe(expected);
    });
});

/** A valid config as Pulumi hands it to the program (objects as JSON strings), as in config.test.ts. */
function config(over: Record<string, unknown> = {}, appOver: Record<string, unknown> = {}): StackConfig {
  const base: Record<string, unknown> = {
    hosts: [{ name: "web", address: "10.0.0.1", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC", roles: ["app", "db", "broker", "worker", "beat"] }],
    app: { name: "shop", repo: "git://x/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application", ...appOver },
    sshPrivateKeyPath: "/root/.ssh/id",
    ...over,
  };
  return parseConfig(Object.fromEntries(Object.entries(base).map(([k, v]) =>
    [`django-fleet:${k}`, typeof v === "string" ? v : JSON.stringify(v)])));
}

const inputs: EnvironmentInputs = {
  secretKey: "s3cr3t",
  dbPassword: "p@ss/word",
  brokerPassword: "b:pw",
  dbHost: "127.0.0.1",
  brokerHost: "127.0.0.1",
  dbName: "shop",
  dbUser: "shop",
  ownAddresses: ["10.0.0.1"],
};

describe("appEnvironment", () => {
  it("writes every variable of the default config, with ALLOWED_HOSTS \"*\" for serverName \"_\"", () => {
    expect(appEnvironment(config(), inputs)).toEqual({
      DJANGO_SETTINGS_MODULE: "shop.settings",
      DJANGO_ALLOWED_HOSTS: "*",
      DJANGO_STATIC_ROOT: "/srv/shop/public/static",
      DJANGO_MEDIA_ROOT: "/srv/shop/public/media",
      DJANGO_SECRET_KEY: "s3cr3t",
      DATABASE_URL: "postgres://shop:p%40ss%2Fword@127.0.0.1:5432/shop",
      CELERY_BROKER_URL: "amqp://shop:b%3Apw@127.0.0.1:5672/shop",
    });
  });

  it("lists the load balancer's names, the host's addresses and loopback, comma-separated", () => {
    const cfg = config({ loadBalancer: { serverName: "shop.example www.shop.example" } });
    expect(appEnvironment(cfg, { ...inputs, ownAddresses: ["10.0.0.5", "203.0.113.7"] }).DJANGO_ALLOWED_HOSTS)
      .toBe("shop.example,www.shop.example,10.0.0.5,203.0.113.7,localhost,127.0.0.1");
  });

  it("joins with app.listSeparator", () => {
    const cfg = config({ loadBalancer: { serverName: "shop.example" } }, { listSeparator: " " });
    expect(appEnvironment(cfg, inputs).DJANGO_ALLOWED_HOSTS).toBe("shop.example 10.0.0.1 localhost 127.0.0.1");
  });

  it("without ownAddresses lists only the names and loopback", () => {
    const cfg = config({ loadBalancer: { serverName: "shop.example" } });
    const { ownAddresses: _, ...rest } = inputs;
    expect(appEnvironment(cfg, rest).DJANGO_ALLOWED_HOSTS).toBe("shop.example,localhost,127.0.0.1");
  });

  it("writes it under app.envNames.allowedHosts", () => {
    const cfg = config({ loadBalancer: { serverName: "shop.example" } }, { envNames: { allowedHosts: "ALLOWED_HOSTS" } });
    const env = appEnvironment(cfg, inputs);
    expect(env.ALLOWED_HOSTS).toBe("shop.example,10.0.0.1,localhost,127.0.0.1");
    expect(env).not.toHaveProperty("DJANGO_ALLOWED_HOSTS");
  });

  it("lets app.env override it", () => {
    const cfg = config({ loadBalancer: { serverName: "shop.example" } }, { env: { DJANGO_ALLOWED_HOSTS: "shop.example" } });
    expect(appEnvironment(cfg, inputs).DJANGO_ALLOWED_HOSTS).toBe("shop.example");
  });

  it("refuses app.env values for credentials (they would be silently ignored)", () => {
    expect(() => config({}, { env: { DJANGO_SECRET_KEY: "from-config", DATABASE_URL: "sqlite://" } })).toThrow(
      /app\.env\.DJANGO_SECRET_KEY: is set by django-fleet \(envNames\.secretKey\), so this value would be ignored/);
  });
});
