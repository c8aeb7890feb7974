import { describe, expect, it } from "vitest";
import { allowedHosts, appEnvironment, brokerUrl, cacheUrl, mediaEnvironment, type EnvironmentInputs } from "../../config/environment.ts";
import { resolveApps } from "../../config/apps.ts";
import type { ObjectStore } from "../../config/objectStore.ts";
import { parseConfig } from "../../config/load.ts";
import type { StackConfig } from "../../config/schema.ts";

describe("allowedHosts", () => {
  const cases: Array<[string, string, string[], string, string, boolean?]> = [
    ["any name (\"_\") with allowAnyHost is *", "_", ["10.0.0.5"], ",", "*", true],
    // Without the opt-in, "_" is the addresses a browser can use, never a wildcard.
    ["any name (\"_\") without allowAnyHost lists the addresses", "_", ["10.0.0.5"], ",", "10.0.0.5,localhost,127.0.0.1"],
    ["any name (\"_\") without allowAnyHost, load balancer and own addresses", "_", ["10.0.0.5", "198.18.0.9", "10.0.0.9"], ",",
      "10.0.0.5,198.18.0.9,10.0.0.9,localhost,127.0.0.1"],
    ["allowAnyHost has no effect with names", "shop.example", [], ",", "shop.example,localhost,127.0.0.1", true],
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
  it.each(cases.map(([name, serverName, own, sep, expected, anyHost]) => ({ name, serverName, own, sep, expected, anyHost })))(
    "$name", ({ serverName, own, sep, expected, anyHost }) => {
      expect(allowedHosts(serverName, own, sep, anyHost)).toBe(expected);
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
  it("writes every variable of the default config; serverName \"_\" allows the addresses, not \"*\"", () => {
    expect(appEnvironment(config(), { ...inputs, loadBalancerAddresses: ["198.18.0.2"] })).toEqual({
      DJANGO_SETTINGS_MODULE: "shop.settings",
      DJANGO_ALLOWED_HOSTS: "10.0.0.1,198.18.0.2,localhost,127.0.0.1",
      DJANGO_STATIC_ROOT: "/srv/shop/public/static",
      DJANGO_MEDIA_ROOT: "/srv/shop/public/media",
      DJANGO_SECRET_KEY: "s3cr3t",
      DATABASE_URL: "postgres://shop:p%40ss%2Fword@127.0.0.1:5432/shop",
      CELERY_BROKER_URL: "amqp://shop:b%3Apw@127.0.0.1:5672/shop",
    });
  });

  it("writes ALLOWED_HOSTS \"*\" for serverName \"_\" only with allowAnyHost", () => {
    expect(appEnvironment(config({}, { allowAnyHost: true }), inputs).DJANGO_ALLOWED_HOSTS).toBe("*");
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

describe("cacheUrl", () => {
  const cases: Array<[string, string, string | undefined, string | undefined]> = [
    ["memcached", "memcached", undefined, "memcached://10.0.0.9:11211"],
    ["memcached, one app's key prefix", "memcached", "shop", "memcached://10.0.0.9:11211?key_prefix=shop"],
    ["redis: database 1, the password encoded", "redis", undefined, "redis://:p%40ss%2Fword@10.0.0.9:6379/1"],
    ["redis, one app's key prefix", "redis", "blog", "redis://:p%40ss%2Fword@10.0.0.9:6379/1?key_prefix=blog"],
    ["no cache", "none", "shop", undefined],
  ];
  for (const [name, kind, prefix, expected] of cases) {
    it(name, () => expect(cacheUrl(config({ cache: { kind } }), "10.0.0.9", "p@ss/word", prefix)).toBe(expected));
  }
  it("redis: the app's own server's port; memcached is one server (11211) whatever the app", () => {
    expect(cacheUrl(config({ cache: { kind: "redis" } }), "10.0.0.9", "pw", "blog", 6801)).toBe("redis://:pw@10.0.0.9:6801/1?key_prefix=blog");
    expect(cacheUrl(config({ cache: { kind: "memcached" } }), "10.0.0.9", "", "blog", 6801)).toBe("memcached://10.0.0.9:11211?key_prefix=blog");
  });
});

/** Two apps as `apps`: shop with the default names, blog with its own (as examples/blog). */
function twoApps(over: Record<string, unknown> = {}): StackConfig {
  return config({
    app: undefined,
    apps: [
      { name: "shop", repo: "git://x/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application", domains: ["shop.example"] },
      {
        name: "blog", repo: "git://x/blog.git", settingsModule: "blogsite.conf.live", wsgiModule: "blogsite.wsgi:application", domains: ["blog.example", "*.blog.example"],
        listSeparator: ";", broker: { redisDb: 2 },
        envNames: { secretKey: "BLOG_SECRET", databaseUrl: "BLOG_DB_URL", brokerUrl: "BLOG_BROKER", allowedHosts: "BLOG_HOSTS", staticRoot: "BLOG_STATIC_DIR", mediaRoot: "BLOG_MEDIA_DIR", cacheUrl: "BLOG_CACHE", mediaLocation: "BLOG_MEDIA_PREFIX" },
      },
    ],
    ...over,
  });
}

describe("brokerUrl: each app its own place on the broker", () => {
  it("RabbitMQ: the app's user and vhost", () => {
    const cfg = twoApps();
    const [shop, blog] = resolveApps(cfg, []);
    expect(brokerUrl(cfg, "b:pw", "10.0.0.3", shop)).toBe("amqp://shop:b%3Apw@10.0.0.3:5672/shop");
    expect(brokerUrl(cfg, "b:pw", "10.0.0.3", blog)).toBe("amqp://blog:b%3Apw@10.0.0.3:5672/blog");
  });

  it("Redis: the app's own server (its port) and its database there", () => {
    const cfg = twoApps({ broker: { kind: "redis" } });
    const [shop, blog] = resolveApps(cfg, []);
    expect(brokerUrl(cfg, "a:pw", "10.0.0.3", shop)).toBe("redis://:a%3Apw@10.0.0.3:6397/0");
    expect(brokerUrl(cfg, "b:pw", "10.0.0.3", blog)).toBe("redis://:b%3Apw@10.0.0.3:6801/2");
    // The one-app `app` keeps the port of the server it had before.
    expect(brokerUrl(config({ broker: { kind: "redis" } }), "b:pw", "10.0.0.3")).toBe("redis://:b%3Apw@10.0.0.3:6379/0");
  });

  it("the one app of `app` by default", () => {
    expect(brokerUrl(config(), "b:pw", "10.0.0.3")).toBe("amqp://shop:b%3Apw@10.0.0.3:5672/shop");
  });
});

describe("appEnvironment: several apps", () => {
  const blogInputs: EnvironmentInputs = { ...inputs, dbName: "blog", dbUser: "blog", cacheHost: "127.0.0.1", cachePassword: "c" };

  it("the second app gets its own names, host names, separator, database, vhost and cache key prefix", () => {
    const cfg = twoApps({ cache: { kind: "memcached" }, hosts: [{ name: "web", address: "10.0.0.1", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC", roles: ["app", "db", "broker", "worker", "beat", "cache"] }] });
    const blog = resolveApps(cfg, [])[1]!;
    expect(appEnvironment(cfg, blogInputs, blog)).toEqual({
      DJANGO_SETTINGS_MODULE: "blogsite.conf.live",
      BLOG_HOSTS: "blog.example;.blog.example;10.0.0.1;localhost;127.0.0.1",
      BLOG_STATIC_DIR: "/srv/blog/public/static",
      BLOG_MEDIA_DIR: "/srv/blog/public/media",
      BLOG_SECRET: "s3cr3t",
      BLOG_DB_URL: "postgres://blog:p%40ss%2Fword@127.0.0.1:5432/blog",
      BLOG_BROKER: "amqp://blog:b%3Apw@127.0.0.1:5672/blog",
      BLOG_CACHE: "memcached://127.0.0.1:11211?key_prefix=blog",
    });
  });

  it("the first app's environment holds its own host names and key prefix, not the other app's", () => {
    const cfg = twoApps({ cache: { kind: "redis" }, hosts: [{ name: "web", address: "10.0.0.1", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC", roles: ["app", "db", "broker", "worker", "beat", "cache"] }] });
    const shop = resolveApps(cfg, [])[0]!;
    const env = appEnvironment(cfg, { ...inputs, cacheHost: "127.0.0.1", cachePassword: "c" }, shop);
    expect(env.DJANGO_ALLOWED_HOSTS).toBe("shop.example,10.0.0.1,localhost,127.0.0.1");
    expect(env.CACHE_URL).toBe("redis://:c@127.0.0.1:6397/1?key_prefix=shop");
    expect(env.CELERY_BROKER_URL).toBe("amqp://shop:b%3Apw@127.0.0.1:5672/shop");
  });

  it("the `app` shorthand's cache URL carries its key prefix too", () => {
    const cfg = config({ cache: { kind: "memcached" } });
    expect(appEnvironment(cfg, { ...inputs, cacheHost: "10.0.0.9" }).CACHE_URL).toBe("memcached://10.0.0.9:11211?key_prefix=shop");
  });

  it("S3 uploads: each app under its own prefix and its own variable names", () => {
    const store: ObjectStore = {
      endpoint: "https://s3.example.net", host: "s3.example.net", port: 443, bucket: "media", region: "us-east-1", pathStyle: true,
      prefix: "django-fleet/test", accessKeyId: "AKID", secretAccessKey: "SECRET",
    };
    const cfg = twoApps({ media: { storage: "s3", target: { endpoint: "https://s3.example.net", bucket: "media", accessKeyId: "AKID", secretAccessKey: "SECRET" } } });
    const [shop, blog] = resolveApps(cfg, []);
    expect(mediaEnvironment(cfg, store, shop)).toMatchObject({ AWS_LOCATION: "media/shop", AWS_STORAGE_BUCKET_NAME: "media" });
    expect(mediaEnvironment(cfg, store, blog)).toMatchObject({ BLOG_MEDIA_PREFIX: "media/blog", AWS_STORAGE_BUCKET_NAME: "media" });
    expect(mediaEnvironment(cfg, store, blog)).not.toHaveProperty("AWS_LOCATION");
  });
});
