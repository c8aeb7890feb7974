import { describe, expect, it } from "vitest";
import { parseConfig } from "../../config/load.ts";
import { backupStore, mediaStore, plainCredentialProblems, plainInStackFile, resolveStore } from "../../config/objectStore.ts";
import { appEnvironment } from "../../config/environment.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const TARGET = { endpoint: "https://s3.example.net:9000/", bucket: "fleet-backups", accessKeyId: "AKID", secretAccessKey: "SECRETKEY" };

function cfg(over: Record<string, unknown>) {
  const base: Record<string, unknown> = {
    hosts: [{ name: "web", address: "10.0.0.10", hostKey: KEY, roles: ["loadBalancer", "app", "worker", "beat", "db", "broker"] }],
    app: { name: "shop", repo: "git://x/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application" },
    sshPrivateKeyPath: "/k",
    ...over,
  };
  return parseConfig(Object.fromEntries(Object.entries(base).map(([k, v]) => [`django-fleet:${k}`, typeof v === "string" ? v : JSON.stringify(v)])));
}

describe("object stores", () => {
  it("resolves an endpoint into host and port, with the stack's prefix by default", () => {
    expect(resolveStore(cfg({ backup: { target: TARGET } }).backup.target!, "prod")).toEqual({
      endpoint: "https://s3.example.net:9000", host: "s3.example.net", port: 9000, bucket: "fleet-backups", region: "us-east-1",
      pathStyle: false, prefix: "django-fleet/prod", accessKeyId: "AKID", secretAccessKey: "SECRETKEY",
    });
    expect(resolveStore(cfg({ backup: { target: { ...TARGET, endpoint: "https://s3.amazonaws.com", prefix: "a/b" } } }).backup.target!, "prod"))
      .toMatchObject({ port: 443, prefix: "a/b" });
  });

  it("media uses its own target, the backup target only when shared by name, and only with storage s3", () => {
    const own = { ...TARGET, bucket: "fleet-media" };
    expect(mediaStore(cfg({ backup: { target: TARGET } }), "dev")).toBeUndefined();
    expect(mediaStore(cfg({ backup: { target: TARGET }, media: { storage: "s3" } }), "dev")).toBeUndefined();
    expect(mediaStore(cfg({ backup: { target: TARGET }, media: { storage: "s3", shareBackupTarget: true } }), "dev")!.bucket).toBe("fleet-backups");
    expect(mediaStore(cfg({ backup: { target: TARGET }, media: { storage: "s3", target: own } }), "dev")!.bucket).toBe("fleet-media");
    expect(backupStore(cfg({}), "dev")).toBeUndefined();
  });

  it("refuses keys kept in plain text, naming the command that stores them as secrets", () => {
    const c = cfg({ backup: { target: TARGET }, media: { storage: "s3", target: TARGET } });
    expect(plainCredentialProblems(c, () => false)).toEqual([
      "backup.target.secretAccessKey: is stored in plain text in the stack's config file. Fix: `npm run pulumi -- config set --secret --path backup.target.secretAccessKey <key>` (and the same for backup.target.accessKeyId)",
      "media.target.secretAccessKey: is stored in plain text in the stack's config file. Fix: `npm run pulumi -- config set --secret --path media.target.secretAccessKey <key>` (and the same for media.target.accessKeyId)",
    ]);
    expect(plainCredentialProblems(c, (k) => k === "django-fleet:backup" || k === "django-fleet:media")).toEqual([]);
    expect(plainCredentialProblems(cfg({}), () => false)).toEqual([]);
  });

  // Pulumi.<stack>.yaml as `config set [--secret] --path backup.target.<key>` writes it.
  const stackFile = (access: string, secret: string) => [
    "config:",
    "  django-fleet:app:",
    "    secretAccessKey: not-under-backup",
    "  django-fleet:backup:",
    "    target:",
    "      endpoint: https://s3.example.net",
    `      accessKeyId:${access}`,
    `      secretAccessKey:${secret}`,
    "  django-fleet:protectData: \"true\"",
    "",
  ].join("\n");
  const SECURE = "\n        secure: v1:abc==";
  it.each([
    ["both keys secret", SECURE, SECURE, []],
    ["a plain secret key beside a secret key id", SECURE, " SECRETKEY", ["secretAccessKey"]],
    ["a plain key id beside a secret key", " AKID", SECURE, ["accessKeyId"]],
    ["a quoted plain key", SECURE, ' "SECRETKEY"', ["secretAccessKey"]],
    ["flow-style secure values", " {secure: v1:abc}", ' {"secure": "v1:abc"}', []],
  ] as const)("each key must be secret on its own: %s", (_name, access, secret, plain) => {
    const text = stackFile(access, secret);
    expect(["accessKeyId", "secretAccessKey"].filter((f) => plainInStackFile(text, "backup", f))).toEqual(plain);
    expect(plainCredentialProblems(cfg({ backup: { target: TARGET } }), () => true, text)).toEqual(plain.map((f) =>
      `backup.target.${f}: is stored in plain text in the stack's config file (another value under backup is secret, this one is not). Fix: \`npm run pulumi -- config set --secret --path backup.target.${f} <key>\``));
  });

  it("a whole target set as one secret value, or no stack file, passes the per-key check", () => {
    const whole = "config:\n  django-fleet:backup:\n    secure: v1:abc==\n";
    expect(plainCredentialProblems(cfg({ backup: { target: TARGET } }), () => true, whole)).toEqual([]);
    expect(plainCredentialProblems(cfg({ backup: { target: TARGET } }), () => true)).toEqual([]);
    expect(plainInStackFile(whole, "media", "secretAccessKey")).toBe(false);
  });

  it("gives the app django-storages' settings under its own names, the CA only when there is one", () => {
    const c = cfg({ media: { storage: "s3", target: { ...TARGET, pathStyle: true, caFile: "/tmp/ca.pem" }, location: "up" }, app: {
      name: "shop", repo: "git://x/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application",
      envNames: { mediaBucket: "MEDIA_BUCKET" },
    } });
    const env = appEnvironment(c, {
      secretKey: "k", dbPassword: "p", brokerPassword: "b", dbHost: "127.0.0.1", brokerHost: "127.0.0.1", dbName: "shop", dbUser: "shop",
      media: mediaStore(c, "dev"),
    });
    expect(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("AWS_") || k.startsWith("MEDIA_") || k === "DJANGO_MEDIA_STORAGE"))).toEqual({
      DJANGO_MEDIA_STORAGE: "s3", MEDIA_BUCKET: "fleet-backups", AWS_S3_ENDPOINT_URL: "https://s3.example.net:9000", AWS_S3_REGION_NAME: "us-east-1",
      AWS_S3_ADDRESSING_STYLE: "path", AWS_LOCATION: "up", AWS_CA_BUNDLE: "/etc/django-fleet/object-store-ca.pem",
      AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "SECRETKEY",
    });
  });
});
