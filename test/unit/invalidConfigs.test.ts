/**
 * "Bad input is refused in seconds, names its key, and never runs anything."
 *
 * A table of invalid stacks, each driven through the same pure entry points, in the same
 * order, as index.ts: parseConfig(raw) -> readInventory(inventoryFile) -> buildTopology ->
 * readPrivateKey(privateKeyPath) -> detectPythonProject(app, repository). Each case asserts
 * the EXACT list of problems of the ConfigError (so every case can fail), and nothing in
 * this file touches a server: these functions are pure apart from reading the two files.
 *
 * The last describe block lists inputs that are NOT refused yet (or not in seconds): bugs
 * for the lead. Those tests fail until the code is fixed; see the report of this file.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readInventory, readPrivateKey } from "../../config/files.ts";
import { ConfigError, parseConfig } from "../../config/load.ts";
import { detectPythonProject, type RepoSnapshot } from "../../config/pythonProject.ts";
import type { Role, StackConfig } from "../../config/schema.ts";
import { buildTopology } from "../../config/topology.ts";
import { renderEnvFile } from "../../services/app/envFile.ts";
import { renderGunicornConf } from "../../services/app/gunicornConf.ts";
import { renderNginxSite } from "../../services/nginx/nginxSite.ts";
import { renderGunicornUnit } from "../../services/app/systemdUnits.ts";
import { renderCeleryWorkerUnit } from "../../services/celery/celeryUnits.ts";

// Real ed25519 host keys (the ones test/unit/topology.test.ts uses), and real ECDSA and RSA
// ones made with `ssh-keygen -t ecdsa -b 256` / `-t rsa -b 1024` (public halves only).
const B64_A = "AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const KEY_A = `ssh-ed25519 ${B64_A}`;
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIId0paVhpFe2+CKpnTtFPRRMLjAF3AcffsCe2MR/JRzK";
const B64_ECDSA = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBN5/z4K06Uj3dztU/NyeXhjN+ffKl9BcJBkZByLewt5ZA6MRnE/G6aS9XmwUDwu/9t2u+ndo/P9jKQwVtKIaP70=";
const KEY_ECDSA = `ecdsa-sha2-nistp256 ${B64_ECDSA}`;
const KEY_RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDI8vlshk/R2XvvjkG55FxOG/hOBkBhQQZkKxfNP6TxKJeOvK2LFnOUfsDFDSpZ0EsVGsSqehr2vgc105spQ+6Vz1c5Tu4z10Rsnfnc8bNaHP5Febx1jGrPvsuZJ33q0aupHxgcX9s9D1M6XQ5Sw1eWLHrH7mAUy+8VtA6O2+P7ow==";
/** An ed25519 blob whose key is 31 bytes instead of 32 (length field and data agree). */
const B64_SHORT = (() => {
  const blob = Buffer.from(B64_A, "base64").subarray(0, 50);
  blob.writeUInt32BE(31, 15);
  return blob.toString("base64");
})();

const ALL_ROLES: Role[] = ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"];
const rest = (...without: Role[]) => ALL_ROLES.filter((r) => !without.includes(r));

// Files the cases point at: keys are made with ssh-keygen, the rest written in beforeAll.
const DIR = mkdtempSync(join(tmpdir(), "fleet-invalid-"));
const PRIVATE_KEY = join(DIR, "id_ed25519");
const PUBLIC_KEY = `${PRIVATE_KEY}.pub`;
const NOT_A_KEY = join(DIR, "notes.txt");
const MISSING = join(DIR, "missing");
const inv = (name: string) => join(DIR, name);
const INVENTORIES: Record<string, string> = {
  "ok.json": JSON.stringify({ privateKeyPath: PRIVATE_KEY, hosts: [{ name: "fleet-dev", address: "198.18.0.10", hostKey: KEY_B }] }),
  "pub-line.json": JSON.stringify({ privateKeyPath: PRIVATE_KEY, hosts: [{ name: "fleet-dev", address: "198.18.0.10", hostKey: `${KEY_B} root@fleet-dev` }] }),
  "broken.json": '{"privateKeyPath": "/k", "hosts": [',
  "servers.json": JSON.stringify({ servers: [{ name: "fleet-dev" }] }),
  "no-key.json": JSON.stringify({ hosts: [{ name: "fleet-dev", address: "198.18.0.10" }] }),
  "port-string.json": JSON.stringify({ hosts: [{ name: "fleet-dev", address: "198.18.0.10", hostKey: KEY_B, port: "22" }] }),
  "option-address.json": JSON.stringify({ privateKeyPath: PRIVATE_KEY, hosts: [{ name: "fleet-dev", address: "-oProxyCommand=touch /tmp/x", hostKey: KEY_B }] }),
  "bad-key.json": JSON.stringify({ privateKeyPath: PRIVATE_KEY, hosts: [{ name: "fleet-dev", address: "198.18.0.10", hostKey: "ssh-ed25519 AAAA" }] }),
  "other-host.json": JSON.stringify({ privateKeyPath: PRIVATE_KEY, hosts: [{ name: "other", address: "198.18.0.11", hostKey: KEY_B }] }),
  "no-private-key.json": JSON.stringify({ hosts: [{ name: "fleet-dev", address: "198.18.0.10", hostKey: KEY_B }] }),
  "public-key.json": JSON.stringify({ privateKeyPath: PUBLIC_KEY, hosts: [{ name: "fleet-dev", address: "198.18.0.10", hostKey: KEY_B }] }),
  "option-user.json": JSON.stringify({ privateKeyPath: PRIVATE_KEY, hosts: [{ name: "fleet-dev", address: "198.18.0.10", hostKey: KEY_B, user: "-oProxyCommand=touch /tmp/x" }] }),
  "key-newline.json": JSON.stringify({ privateKeyPath: PRIVATE_KEY, hosts: [{ name: "fleet-dev", address: "198.18.0.10", hostKey: `${KEY_B}\n@cert-authority * ${KEY_A}` }] }),
  "key-marker.json": JSON.stringify({ privateKeyPath: PRIVATE_KEY, hosts: [{ name: "fleet-dev", address: "198.18.0.10", hostKey: `@cert-authority ${KEY_B}` }] }),
  "port-zero.json": JSON.stringify({ privateKeyPath: PRIVATE_KEY, hosts: [{ name: "fleet-dev", address: "198.18.0.10", hostKey: KEY_B, port: 0 }] }),
};

beforeAll(() => {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "fleet-invalid-test", "-f", PRIVATE_KEY]);
  writeFileSync(NOT_A_KEY, "just some notes\n");
  for (const [name, text] of Object.entries(INVENTORIES)) writeFileSync(inv(name), text);
  mkdirSync(join(DIR, "a-folder"));
});
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------
// Inputs

type Json = unknown;

interface Input {
  /** Top-level keys replacing the base's; `undefined` removes one. */
  readonly set?: Record<string, Json>;
  /** Merged into hosts[0]; `undefined` removes a field. */
  readonly host?: Record<string, Json>;
  /** Merged into app; `undefined` removes a field. */
  readonly app?: Record<string, Json>;
  /** Raw Pulumi config entries, added as they are (other namespaces, text that is not JSON). */
  readonly raw?: Record<string, string>;
  /** The repository at the deployed commit; default: a requirements.txt and nothing else. */
  readonly repo?: RepoSnapshot;
}

const BASE_HOST = { name: "fleet-dev", address: "10.0.0.10", hostKey: KEY_A, roles: ALL_ROLES };
const BASE_APP = { name: "shop", repo: "https://git.example/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application" };

function repo(files: Record<string, string>): RepoSnapshot {
  return { rootFiles: new Set(Object.keys(files)), contents: new Map(Object.entries(files)) };
}
const REQUIREMENTS_ONLY = repo({ "requirements.txt": "Django==5.2\n" });

/** The raw Pulumi config map (objects as JSON strings), as pulumi.runtime.allConfig() gives it. */
function rawConfig(i: Input): Record<string, string> {
  const top: Record<string, Json> = {
    hosts: [{ ...BASE_HOST, ...i.host }],
    app: { ...BASE_APP, ...i.app },
    sshPrivateKeyPath: PRIVATE_KEY,
    ...i.set,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(top)) {
    if (v !== undefined) out[`django-fleet:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return { ...out, ...i.raw };
}

/** index.ts, up to the first resource: every step that can refuse the config. */
function check(i: Input): StackConfig {
  const cfg = parseConfig(rawConfig(i));
  const topo = buildTopology(cfg, cfg.inventoryFile ? readInventory(cfg.inventoryFile) : undefined);
  readPrivateKey(topo.privateKeyPath);
  const project = detectPythonProject(cfg.app!, i.repo ?? REQUIREMENTS_ONLY);
  if (typeof project === "string") throw new ConfigError([project]);
  return cfg;
}

/** The problems the config is refused with; throws when it is accepted or fails otherwise. */
function problems(i: Input): string[] {
  try {
    check(i);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw new Error(`not a ConfigError: ${String(e)}`);
    expect(e.message.split("\n")[0]).toBe("django-fleet: the stack config is invalid; nothing was changed on any server.");
    expect(e.message.split("\n").slice(1)).toEqual(e.problems.map((p) => `  - ${p}`));
    return e.problems;
  }
  throw new Error("the config was accepted; expected a ConfigError");
}

// ---------------------------------------------------------------------------------------
// Expected messages. The helpers spell the three fixed shapes of config/load.ts; the
// first test below checks them against fully written-out messages.

/** `key: what, got VALUE. Fix: config set` (a schema problem; `got` is the JSON shown, cut at 60). */
const bad = (key: string, what: string, got: string) =>
  `${key}: ${what}, got ${got}. Fix: \`npm run pulumi -- config set --path '${key}' <value>\``;
/** A problem under app.env: the value is never echoed (it may be a secret). */
const badEnv = (key: string, what: string) => `${key}: ${what}. Fix: \`npm run pulumi -- config set --path '${key}' <value>\``;
/** A required key that is missing. */
const required = (key: string) => `${key}: is required. Fix: \`npm run pulumi -- config set --path '${key}' <value>\``;
/** A key the schema does not know (a typo). */
const unknown = (key: string) =>
  `${key}: unknown key. Fix: remove it (\`npm run pulumi -- config rm --path '${key}'\`) or correct its spelling`;
const role = (r: string, why: string, found: string) =>
  `hosts: exactly one host must have the role "${r}" (${why}); found ${found}. Fix: add "${r}" to the roles of exactly one host`;
const DB = "the database primary";
const BEAT = "Celery beat must run once in the whole fleet, or periodic tasks run twice or never";
const clash = (key: string, what: string, port: number, first: string) =>
  `${key}: on host "fleet-dev", ${what} would listen on port ${port}, which ${first} uses already. Fix: choose another port, or move one of the roles to another host`;
const ROLE_OPTIONS = '"loadBalancer"|"app"|"worker"|"beat"|"db"|"dbReplica"|"broker"|"cache"|"logging"';
const ADDRESS = "must be an IP address or a DNS name";
const REPO = "must be a git URL (https://, ssh://, git://, file://, user@host:path) or an absolute path";
const REF = "must be a branch, tag or commit name";
const RESERVED = "is a system account; the app runs as a user of this name, so pick the app's own (e.g. shop)";
const SYSTEM_NAME = "names a system account or folder (/var/lib/<name>, /etc/<name>, /var/log/<name>, /run/<name>), which the app's user would take over; pick the app's own (e.g. shop)";
const DB_USER = "is a database superuser, a role django-fleet uses itself or a name the database reserves; the app would own its rights, so pick the app's own (e.g. shop)";
/** The refusal of a URL with credentials in it, naming the app's own repoToken as the fix (the URL is not echoed). */
const repoCredentials = (app: string) => `${app}.repo: holds credentials (user:token@), which would show in process lists, state and previews on this machine and every host. Fix: give the URL without them and the token as secret config: \`npm run pulumi -- config set --secret --path '${app}.repoToken' <token>\` (and \`${app}.repoUser\` if the server wants a user name)`;
const TOKEN_NOT_HTTP = (app: string) => `${app}.repoToken: is given to git as an HTTP credential, but repo is not an https:// (or http://) URL. Fix: give repo as https://..., or \`npm run pulumi -- config rm --path '${app}.repoToken'\``;
/** A problem whose value is never echoed (a secret may be in it). */
const hiddenBad = (key: string, what: string) => `${key}: ${what}. Fix: \`npm run pulumi -- config set --path '${key}' <value>\``;
const KEY_LINE = "a host key is one line, `TYPE BASE64`. Fix: copy the host's /etc/ssh/ssh_host_ed25519_key.pub into the inventory file as it is";
const ENV_NAME = "must be a valid environment variable name";
const SERVER_NAME = 'must be host names separated by single spaces (e.g. "shop.example www.shop.example"), or _';
const PATH = "must be an absolute path of letters, digits and ._@+- segments";
const PACKAGE = "must be a Debian package name (lower-case letters, digits, + - .)";
const REQ_FILE = "must be a relative path inside the repository";
const HOST_KEY_SHAPE = "must be `TYPE BASE64` as in known_hosts";
const HOST_KEY_INVALID = "is not a valid SSH public key (copy the whole line of /etc/ssh/ssh_host_ed25519_key.pub)";
/** loadBalancer.acme as a user sets it. */
const ACME = { email: "ops@shop.example" };
const ACME_EMAIL = "loadBalancer.acme.email: missing; certbot registers the ACME account under it (the CA's notices about the account go there). Fix: `npm run pulumi -- config set --path loadBalancer.acme.email you@example.com`";
const ACME_IP = 'is an IP address; tls "acme" gets certificates for DNS names only (point a DNS name at the load balancer)';
const ACME_WILDCARD = 'is a wildcard, which only the DNS-01 challenge can prove; tls "acme" answers HTTP-01 only, so list each name instead';
const ACME_SERVER = 'must be "production", "staging" or the https:// URL of an ACME directory';
const EMAIL = "must be an email address such as you@example.com";
/** A name of loadBalancer.serverName that no certificate can be issued for. */
const acmeName = (name: string, why: string) =>
  `loadBalancer.serverName: ${JSON.stringify(name)} ${why}. Fix: \`npm run pulumi -- config set --path loadBalancer.serverName shop.example\` (the DNS names whose A records point at the load balancer, separated by spaces)`;
const acmeUnused = (tls: string) =>
  `loadBalancer.acme: is set, but loadBalancer.tls is "${tls}", so it would not be used. Fix: \`npm run pulumi -- config set --path loadBalancer.tls acme\`, or \`npm run pulumi -- config rm --path loadBalancer.acme\``;
/** How a long value is shown: its JSON cut to 57 characters, then `...`. */
const cut = (value: string) => `"${value.slice(0, 56)}...`;
const privateAddress = (i: number, got: string, key: "privateAddress" | "address" = "privateAddress") =>
  `hosts[${i}].${key}: must be an IPv4 address (firewall and database access rules are written with it), got ${got}. Fix: \`npm run pulumi -- config set --path 'hosts[${i}].privateAddress' <ipv4>\``
  + (key === "address" ? " (an address given as a DNS name needs a privateAddress)" : "");
const setBy = (name: string, by: string, key: string) =>
  `app.env.${name}: is set by django-fleet (${by}), so this value would be ignored; remove it, or rename envNames.${key}. Fix: \`npm run pulumi -- config set --path 'app.env.${name}' <value>\``;

// ---------------------------------------------------------------------------------------
// The table

type Case = readonly [name: string, input: Input, expected: readonly string[]];

/** An object store as a user names it. */
const S3 = { endpoint: "https://s3.example.net", bucket: "fleet-backups", accessKeyId: "AKID", secretAccessKey: "SECRETKEY" };

const CASES: readonly Case[] = [
  // --- required keys and types --------------------------------------------------------
  ["hosts missing", { set: { hosts: undefined } }, [required("hosts")]],
  ["hosts empty", { set: { hosts: [] } }, [bad("hosts", "needs at least one host", "[]")]],
  ["hosts not a list (plain text)", { raw: { "django-fleet:hosts": "fleet-dev" } },
    [bad("hosts", "expected array, received string", '"fleet-dev"')]],
  ["a host that is a string", { set: { hosts: ["fleet-dev"] } },
    [bad("hosts[0]", "expected object, received string", '"fleet-dev"')]],
  // Neither `app` nor `apps`: the superRefine's message, with no ", got" (nothing was set).
  ["app missing", { set: { app: undefined } }, ["app: is required (or apps, a list of apps). Fix: `npm run pulumi -- config set --path 'app' <value>`"]],
  ["app is a list", { set: { app: [] } }, [bad("app", "expected object, received array", "[]")]],
  ["app is not JSON", { raw: { "django-fleet:app": "{name: shop" } }, [bad("app", "expected object, received string", '"{name: shop"')]],
  ["app.repo missing", { app: { repo: undefined } }, [required("app.repo")]],
  ["app.name, settingsModule and wsgiModule missing", { app: { name: undefined, settingsModule: undefined, wsgiModule: undefined } },
    [required("app.name"), required("app.settingsModule"), required("app.wsgiModule")]],
  ["app.settingsModule is a number", { app: { settingsModule: 42 } }, [bad("app.settingsModule", "expected string, received number", "42")]],
  ["hosts[].name missing", { host: { name: undefined } }, [required("hosts[0].name")]],
  ["hosts[].name upper-case", { host: { name: "Fleet-Dev" } },
    [bad("hosts[0].name", "must be lower-case letters, digits and dashes, starting with a letter", '"Fleet-Dev"')]],
  ["hosts[].roles missing", { host: { roles: undefined } }, [required("hosts[0].roles")]],
  ["hosts[].roles empty", { host: { roles: [] } }, [bad("hosts[0].roles", "needs at least one role", "[]")]],
  ["hosts[].roles a string", { host: { roles: "app" } }, [bad("hosts[0].roles", "expected array, received string", '"app"')]],
  ["hosts[].roles with an unknown role", { host: { roles: [...ALL_ROLES, "webserver"] } },
    [bad("hosts[0].roles[7]", `Invalid option: expected one of ${ROLE_OPTIONS}`, '"webserver"')]],
  ["hosts[].port 0", { host: { port: 0 } }, [bad("hosts[0].port", "Too small: expected number to be >=1", "0")]],
  ["hosts[].port 65536", { host: { port: 65536 } }, [bad("hosts[0].port", "Too big: expected number to be <=65535", "65536")]],
  ["hosts[].port 22.5", { host: { port: 22.5 } }, [bad("hosts[0].port", "expected int, received number", "22.5")]],
  ["hosts[].port as text", { host: { port: "2222" } }, [bad("hosts[0].port", "expected number, received string", '"2222"')]],
  ["hosts[].os unknown", { host: { os: "ubuntu24" } },
    [bad("hosts[0].os", 'Invalid option: expected one of "debian12"|"debian13"', '"ubuntu24"')]],
  ["app.gunicorn.workers 65", { app: { gunicorn: { workers: 65 } } },
    [bad("app.gunicorn.workers", "Too big: expected number to be <=64", "65")]],
  ["app.gunicorn.timeoutSeconds 0", { app: { gunicorn: { timeoutSeconds: 0 } } },
    [bad("app.gunicorn.timeoutSeconds", "Too small: expected number to be >=1", "0")]],
  ["app.gunicorn.maxRequests -1", { app: { gunicorn: { maxRequests: -1 } } },
    [bad("app.gunicorn.maxRequests", "Too small: expected number to be >=0", "-1")]],
  // --- releases and the rollout (issue 11) ---
  ["deploy.batchSize 0", { set: { deploy: { batchSize: 0 } } },
    [bad("deploy.batchSize", "must be at least 1 (app nodes switched at once)", "0")]],
  ["deploy.drainSeconds negative", { set: { deploy: { drainSeconds: -1 } } },
    [bad("deploy.drainSeconds", "Too small: expected number to be >=0", "-1")]],
  ["app.healthCheck.path without a leading slash", { app: { healthCheck: { path: "healthz" } } },
    [bad("app.healthCheck.path", "must be a URL path starting with / (e.g. /healthz), without spaces", '"healthz"')]],
  ["app.healthCheck.path with a space", { app: { healthCheck: { path: "/health z" } } },
    [bad("app.healthCheck.path", "must be a URL path starting with / (e.g. /healthz), without spaces", '"/health z"')]],
  ["app.healthCheck.status 999", { app: { healthCheck: { status: 999 } } },
    [bad("app.healthCheck.status", "Too big: expected number to be <=599", "999")]],
  ["app.keepReleases 0", { app: { keepReleases: 0 } },
    [bad("app.keepReleases", "must be at least 1 (the running release is always kept)", "0")]],
  ["unknown deploy key", { set: { deploy: { batch: 2 } } }, [unknown("deploy.batch")]],
  ["app.port as text", { app: { port: "8000" } }, [bad("app.port", "expected number, received string", '"8000"')]],
  ["app.port huge", { app: { port: 1e9 } }, [bad("app.port", "Too big: expected number to be <=65535", "1000000000")]],
  ["app.static unknown", { app: { static: "whitenoise" } },
    [bad("app.static", 'Invalid option: expected one of "nginx"|"app"', '"whitenoise"')]],
  ["app.listSeparator of two characters", { app: { listSeparator: ";;" } },
    [bad("app.listSeparator", "must be one of , ; : | or a space", '";;"')]],
  ["database.engine mysql", { set: { database: { engine: "mysql" } } },
    [bad("database.engine", 'Invalid option: expected one of "postgresql"|"mariadb"', '"mysql"')]],
  ["database.name with a dash", { set: { database: { name: "shop-db" } } },
    [bad("database.name", "must be lower-case letters, digits and underscores", '"shop-db"')]],
  ["database.user upper-case", { set: { database: { user: "Shop" } } },
    [bad("database.user", "must be lower-case letters, digits and underscores", '"Shop"')]],
  ["database.port 70000", { set: { database: { port: 70000 } } },
    [bad("database.port", "Too big: expected number to be <=65535", "70000")]],
  ["broker.kind sqs", { set: { broker: { kind: "sqs" } } },
    [bad("broker.kind", 'Invalid option: expected one of "rabbitmq"|"redis"', '"sqs"')]],
  ["cache.kind unknown", { set: { cache: { kind: "redis-cluster" } } },
    [bad("cache.kind", 'Invalid option: expected one of "none"|"redis"|"memcached"', '"redis-cluster"')]],
  ["celery.concurrency 0", { set: { celery: { concurrency: 0 } } },
    [bad("celery.concurrency", "Too small: expected number to be >=1", "0")]],
  ["celery.concurrency 65", { set: { celery: { concurrency: 65 } } },
    [bad("celery.concurrency", "Too big: expected number to be <=64", "65")]],
  ["celery.queues empty", { set: { celery: { queues: [] } } },
    [bad("celery.queues", "Too small: expected array to have >=1 items", "[]")]],
  ["celery.queues with a space", { set: { celery: { queues: ["high priority"] } } },
    [bad("celery.queues[0]", "must be a queue name of letters, digits, _ . and -", '"high priority"')]],
  ["loadBalancer.tls letsencrypt", { set: { loadBalancer: { tls: "letsencrypt" } } },
    [bad("loadBalancer.tls", 'Invalid option: expected one of "none"|"selfSigned"|"provided"|"acme"', '"letsencrypt"')]],
  ["logging.retentionDays 0", { set: { logging: { retentionDays: 0 } } },
    [bad("logging.retentionDays", "Too small: expected number to be >=1", "0")]],
  ["logging.retentionDays 3651", { set: { logging: { retentionDays: 3651 } } },
    [bad("logging.retentionDays", "Too big: expected number to be <=3650", "3651")]],
  ["logging.port as text", { set: { logging: { port: "10514" } } },
    [bad("logging.port", "expected number, received string", '"10514"')]],
  ["protectData yes", { raw: { "django-fleet:protectData": "yes" } },
    [bad("protectData", "expected boolean, received string", '"yes"')]],
  ["protectData 1", { set: { protectData: 1 } }, [bad("protectData", "expected boolean, received number", "1")]],
  ["inventoryFile empty", { raw: { "django-fleet:inventoryFile": "" } },
    [bad("inventoryFile", "Too small: expected string to have >=1 characters", '""')]],
  ["sshPrivateKeyPath empty", { raw: { "django-fleet:sshPrivateKeyPath": "" } },
    [bad("sshPrivateKeyPath", "Too small: expected string to have >=1 characters", '""')]],

  // --- unknown keys and namespace typos ---------------------------------------------------
  ["unknown top-level key", { set: { databse: { engine: "mariadb" } } }, [unknown("databse")]],
  ["unknown app key", { app: { gunicron: { workers: 2 } } }, [unknown("app.gunicron")]],
  ["unknown host key (address misspelt)", { host: { address: undefined, adress: "10.0.0.10" } }, [unknown("hosts[0].adress")]],
  ["unknown loadBalancer key", { set: { loadBalancer: { tls: "selfSigned", certPath: "/etc/ssl/shop.pem" } } }, [unknown("loadBalancer.certPath")]],
  ["unknown app.install key", { app: { install: { metod: "uv" } } }, [unknown("app.install.metod")]],
  ["unknown app.envNames key", { app: { envNames: { secret_key: "SECRET_KEY" } } }, [unknown("app.envNames.secret_key")]],
  ["namespace typo django-flet", { raw: { "django-flet:protectData": "true" } },
    ['django-flet:protectData: the namespace "django-flet" is not "django-fleet", so this key would be ignored. Fix: `npm run pulumi -- config rm \'django-flet:protectData\'` and set it as django-fleet:protectData']],
  ["namespace in the wrong case", { raw: { "Django-Fleet:protectData": "true" } },
    ['Django-Fleet:protectData: the namespace "Django-Fleet" is not "django-fleet", so this key would be ignored. Fix: `npm run pulumi -- config rm \'Django-Fleet:protectData\'` and set it as django-fleet:protectData']],
  ["namespace typo with swapped letters, four plain edits away", { raw: { "djnago-felt:protectData": "true" } },
    ['djnago-felt:protectData: the namespace "djnago-felt" is not "django-fleet", so this key would be ignored. Fix: `npm run pulumi -- config rm \'djnago-felt:protectData\'` and set it as django-fleet:protectData']],
  ["namespace typo in the legacy ns:config:key form", { raw: { "django_fleet:config:protectData": "true" } },
    ['django_fleet:config:protectData: the namespace "django_fleet" is not "django-fleet", so this key would be ignored. Fix: `npm run pulumi -- config rm \'django_fleet:config:protectData\'` and set it as django-fleet:config:protectData']],

  // --- addresses, users, host keys ----------------------------------------------------------
  ["address that ssh would read as an option", { host: { address: "-oProxyCommand=touch /tmp/x" } },
    [bad("hosts[0].address", ADDRESS, '"-oProxyCommand=touch /tmp/x"')]],
  ["address with a shell command after it", { host: { address: "10.0.0.10;reboot" } }, [bad("hosts[0].address", ADDRESS, '"10.0.0.10;reboot"')]],
  ["address with a command substitution", { host: { address: "$(touch /tmp/x)" } }, [bad("hosts[0].address", ADDRESS, '"$(touch /tmp/x)"')]],
  ["address with a space", { host: { address: "web server.example" } }, [bad("hosts[0].address", ADDRESS, '"web server.example"')]],
  ["address empty", { host: { address: "" } }, [bad("hosts[0].address", ADDRESS, '""')]],
  ["privateAddress that looks like an option", { host: { privateAddress: "-oProxyCommand=x" } },
    [bad("hosts[0].privateAddress", ADDRESS, '"-oProxyCommand=x"')]],
  ["privateAddress a DNS name", { host: { privateAddress: "db.internal" } }, [privateAddress(0, '"db.internal"')]],
  ["address a DNS name and no privateAddress", { host: { address: "web.example" } }, [privateAddress(0, '"web.example"', "address")]],
  ["user upper-case", { host: { user: "Root" } }, [bad("hosts[0].user", "must be a Unix user name", '"Root"')]],
  ["user that looks like an option", { host: { user: "-oProxyCommand=x" } }, [bad("hosts[0].user", "must be a Unix user name", '"-oProxyCommand=x"')]],
  ["user with a space", { host: { user: "deploy user" } }, [bad("hosts[0].user", "must be a Unix user name", '"deploy user"')]],
  ["user of 33 characters", { host: { user: "a".repeat(33) } }, [bad("hosts[0].user", "must be a Unix user name", `"${"a".repeat(33)}"`)]],
  ["hostKey with the right shape but no key", { host: { hostKey: "ssh-ed25519 AAAA" } },
    [bad("hosts[0].hostKey", HOST_KEY_INVALID, '"ssh-ed25519 AAAA"')]],
  ["hostKey: an ed25519 key labelled ssh-rsa", { host: { hostKey: `ssh-rsa ${B64_A}` } },
    [bad("hosts[0].hostKey", HOST_KEY_INVALID, cut(`ssh-rsa ${B64_A}`))]],
  ["hostKey: an ECDSA key labelled ssh-ed25519", { host: { hostKey: `ssh-ed25519 ${B64_ECDSA}` } },
    [bad("hosts[0].hostKey", HOST_KEY_INVALID, cut(`ssh-ed25519 ${B64_ECDSA}`))]],
  ["hostKey: an ed25519 blob with a 31-byte key", { host: { hostKey: `ssh-ed25519 ${B64_SHORT}` } },
    [bad("hosts[0].hostKey", HOST_KEY_INVALID, cut(`ssh-ed25519 ${B64_SHORT}`))]],
  ["hostKey: base64 one character short", { host: { hostKey: KEY_A.slice(0, -1) } },
    [bad("hosts[0].hostKey", HOST_KEY_INVALID, cut(KEY_A.slice(0, -1)))]],
  ["hostKey of an unsupported type", { host: { hostKey: "ssh-dss AAAAB3NzaC1kc3MAAACBAP" } },
    [bad("hosts[0].hostKey", HOST_KEY_SHAPE, '"ssh-dss AAAAB3NzaC1kc3MAAACBAP"'), bad("hosts[0].hostKey", HOST_KEY_INVALID, '"ssh-dss AAAAB3NzaC1kc3MAAACBAP"')]],
  ["hostKey not base64", { host: { hostKey: "ssh-ed25519 not-base64!" } },
    [bad("hosts[0].hostKey", HOST_KEY_SHAPE, '"ssh-ed25519 not-base64!"'), bad("hosts[0].hostKey", HOST_KEY_INVALID, '"ssh-ed25519 not-base64!"')]],
  ["duplicate host names", { set: { hosts: [BASE_HOST, { ...BASE_HOST, address: "10.0.0.11", roles: ["worker"] }] } },
    ['hosts[1].name: "fleet-dev" is used twice. Fix: give every host its own name']],
  ["duplicate addresses", { set: { hosts: [BASE_HOST, { ...BASE_HOST, name: "fleet-app", roles: ["worker"] }] } },
    ['hosts[1].address: "10.0.0.10" is also the address of host "fleet-dev"; one server is one host (give it all the roles). Fix: correct the address, or merge the two hosts']],

  // --- backup, media ----------------------------------------------------------------------
  ["backup target without a bucket", { set: { backup: { target: { endpoint: "https://s3.example.net", accessKeyId: "AKID", secretAccessKey: "SECRETKEY" } } } },
    [required("backup.target.bucket")]],
  ["backup target over plain http", { set: { backup: { target: { ...S3, endpoint: "http://s3.example.net" } } } },
    [bad("backup.target.endpoint", "must be an https:// URL of a host (and port), with no path: pgBackRest talks TLS only", '"http://s3.example.net"')]],
  ["backup target endpoint with a path", { set: { backup: { target: { ...S3, endpoint: "https://s3.example.net/bucket" } } } },
    [bad("backup.target.endpoint", "must be an https:// URL of a host (and port), with no path: pgBackRest talks TLS only", '"https://s3.example.net/bucket"')]],
  ["backup bucket with upper-case letters", { set: { backup: { target: { ...S3, bucket: "Fleet_Backups" } } } },
    [bad("backup.target.bucket", "must be an S3 bucket name (3-63 lower-case letters, digits, dots and dashes)", '"Fleet_Backups"')]],
  ["backup secret key with a space: never echoed", { set: { backup: { target: { ...S3, secretAccessKey: "two words" } } } },
    [badEnv("backup.target.secretAccessKey", "must be printable ASCII without spaces")]],
  ["retention below zero", { set: { backup: { retention: { daily: -1 } } } },
    [bad("backup.retention.daily", "Too small: expected number to be >=0", "-1")]],
  ["retention that keeps nothing", { set: { backup: { retention: { daily: 0, weekly: 0, monthly: 0 } } } },
    [bad("backup.retention", "keeps nothing: set daily, weekly or monthly above 0", '{"daily":0,"weekly":0,"monthly":0}')]],
  ["backup schedule read as an option", { set: { backup: { schedule: "--now" } } },
    [bad("backup.schedule", 'must be a systemd OnCalendar expression, e.g. "*-*-* 03:00:00" or daily', '"--now"')]],
  ["media in S3 with no store named", { set: { media: { storage: "s3" } } },
    ['media.storage: "s3" names no object store. Fix: set media.target (endpoint, bucket, accessKeyId, secretAccessKey; keys with `npm run pulumi -- config set --secret --path media.target.secretAccessKey <key>`)']],
  ["local media with two app hosts", { set: { hosts: [BASE_HOST, { ...BASE_HOST, name: "app2", address: "10.0.0.11", roles: ["app"] }] } },
    ['hosts: 2 hosts have the role "app" (fleet-dev, app2) and media.storage is "local": an upload would land on the node that took the request, and the other nodes and the load balancer could not serve it (and it is lost with that node). Fix: `npm run pulumi -- config set --path media.storage s3` with media.target naming a bucket, or run one app host']],

  // --- app.repo, app.ref, app.name --------------------------------------------------------
  ["repo that git would read as an option", { app: { repo: "--upload-pack=touch /tmp/x;" } },
    [bad("app.repo", REPO, '"--upload-pack=touch /tmp/x;"')]],
  ["repo -x", { app: { repo: "-x" } }, [bad("app.repo", REPO, '"-x"')]],
  ["repo with a space", { app: { repo: "https://git.example/my shop.git" } }, [bad("app.repo", REPO, '"https://git.example/my shop.git"')]],
  ["repo a relative path", { app: { repo: "shop.git" } }, [bad("app.repo", REPO, '"shop.git"')]],
  ["repo ../shop", { app: { repo: "../shop" } }, [bad("app.repo", REPO, '"../shop"')]],
  ["repo with git's ext:: transport", { app: { repo: "ext::sh -c touch% /tmp/x" } }, [bad("app.repo", REPO, '"ext::sh -c touch% /tmp/x"')]],
  ["repo ssh:// to a host that is an option", { app: { repo: "ssh://-oProxyCommand=x/shop.git" } },
    [bad("app.repo", REPO, '"ssh://-oProxyCommand=x/shop.git"')]],
  ["ref with ..", { app: { ref: "main..evil" } }, [bad("app.ref", REF, '"main..evil"')]],
  ["ref that looks like an option", { app: { ref: "-b" } }, [bad("app.ref", REF, '"-b"')]],
  ["ref with a space", { app: { ref: "feature x" } }, [bad("app.ref", REF, '"feature x"')]],
  ["ref starting with /", { app: { ref: "/main" } }, [bad("app.ref", REF, '"/main"')]],
  ["ref ending with /", { app: { ref: "main/" } }, [bad("app.ref", REF, '"main/"')]],
  ["app.name root", { app: { name: "root" } }, [bad("app.name", RESERVED, '"root"')]],
  ["app.name postgres", { app: { name: "postgres" } }, [bad("app.name", RESERVED, '"postgres"')]],
  ["app.name www-data (reserved, and a dash)", { app: { name: "www-data" } },
    [bad("app.name", "must be lower-case letters, digits and underscores, starting with a letter (it names a user and units)", '"www-data"'), bad("app.name", RESERVED, '"www-data"')]],
  // Issue 21: names that would take over a system account, folder or database role.
  ...["dpkg", "apt", "postgresql", "systemd", "letsencrypt", "pgbackrest", "nginx", "rabbitmq", "redis", "memcache", "mysql", "epmd", "replicator", "ssl"]
    .map((n): Case => [`app.name ${n} (a system folder or account)`, { app: { name: n } }, [bad("app.name", n === "mysql" || n === "redis" || n === "rabbitmq" || n === "memcache" || n === "nginx" ? RESERVED : SYSTEM_NAME, `"${n}"`)]]),
  ["app.name public: its database role would be PostgreSQL's reserved one", { app: { name: "public" } },
    ["app.name: \"public\" would also name the app's database role, which is a superuser's, django-fleet's own or reserved by the database. Fix: `npm run pulumi -- config set --path 'app.database.user' <name>`, or give the app another name"]],
  ...["postgres", "replicator", "root", "mysql", "pg_monitor", "public"].map((u): Case =>
    [`database.user ${u}`, { set: { database: { user: u } } }, [bad("database.user", DB_USER, `"${u}"`)]]),
  ["apps[0].database.user postgres", { set: { app: undefined, apps: [{ ...BASE_APP, database: { user: "postgres" } }] } },
    [bad("apps[0].database.user", DB_USER, '"postgres"')]],
  ["repo with user:token@ (the token is not echoed)", { app: { repo: "https://deploy:ghp_SECRET@git.example/shop.git" } },
    [repoCredentials("app")]],
  ["repo with token@ alone", { app: { repo: "https://ghp_SECRET@git.example/shop.git" } }, [repoCredentials("app")]],
  ["repo ssh:// with a password", { app: { repo: "ssh://git:hunter2@git.example/shop.git" } }, [repoCredentials("app")]],
  ["apps[1].repo with a token: the fix names apps[1].repoToken", { set: { app: undefined, apps: [{ ...BASE_APP, domains: ["a.example"] }, { ...BASE_APP, name: "shop2", domains: ["b.example"], repo: "https://x:ghp_SECRET@git.example/shop.git" }] } },
    [repoCredentials("apps[1]")]],
  // app.repoToken: an HTTP credential, never echoed.
  ["repoToken with a git:// repo", { app: { repo: "git://git.example/shop.git", repoToken: "ghp_SECRET" } }, [TOKEN_NOT_HTTP("app")]],
  ["repoToken with an ssh user@host:path repo", { app: { repo: "git@git.example:shop.git", repoToken: "ghp_SECRET" } }, [TOKEN_NOT_HTTP("app")]],
  ["repoToken with a space (not echoed)", { app: { repoToken: "ghp_SE CRET" } }, [hiddenBad("app.repoToken", "holds a space, line break or NUL, which no token holds")]],
  ["repoToken with a line break (not echoed)", { app: { repoToken: "ghp_SECRET\npassword=x" } }, [hiddenBad("app.repoToken", "holds a space, line break or NUL, which no token holds")]],
  ["repoToken empty", { app: { repoToken: "" } }, [hiddenBad("app.repoToken", "must not be empty")]],
  ["repoToken a number (not echoed)", { app: { repoToken: 12345 } }, [hiddenBad("app.repoToken", "expected string, received number")]],
  ["repoUser with a colon", { app: { repoUser: "a:b", repoToken: "t" } }, [bad("app.repoUser", "must be a user name of letters, digits and . _ @ + -", '"a:b"')]],
  ["app.name empty", { app: { name: "" } }, [bad("app.name", "must be lower-case letters, digits and underscores, starting with a letter (it names a user and units)", '""')]],

  // --- port clashes on one host -----------------------------------------------------------
  ["app.port 5432 on the db host", { app: { port: 5432 } }, [clash("app.port", "database.port", 5432, "app.port")]],
  ["app.port 22 (ssh)", { app: { port: 22 } }, [clash("app.port", "app.port", 22, "hosts[].port (ssh)")]],
  ["app.port 80 on the load balancer", { app: { port: 80 } }, [clash("app.port", "app.port", 80, "nginx (http)")]],
  ["app.port 443 with TLS", { app: { port: 443 }, set: { loadBalancer: { tls: "selfSigned" } } },
    [clash("app.port", "app.port", 443, "nginx (https)")]],
  ["app.port 6379 with a Redis broker on the host", { app: { port: 6379 }, set: { broker: { kind: "redis" } } },
    [clash("app.port", "app.redisPort", 6379, "app.port")]],
  ["app.port 11211 with a memcached cache on the host", { app: { port: 11211 }, host: { roles: [...ALL_ROLES, "cache"] }, set: { cache: { kind: "memcached" } } },
    [clash("app.port", "cache (memcached)", 11211, "app.port")]],
  ["logging.port 5432 on a db and logging host", { set: { logging: { port: 5432 } } },
    [clash("logging.port", "logging.port", 5432, "database.port")]],
  ["database.port 22", { set: { database: { port: 22 } } }, [clash("database.port", "database.port", 22, "hosts[].port (ssh)")]],
  ["ssh port 8000 (the app's)", { host: { port: 8000 } }, [clash("app.port", "app.port", 8000, "hosts[].port (ssh)")]],

  // --- environment --------------------------------------------------------------------------
  ["envNames.secretKey starting with a digit", { app: { envNames: { secretKey: "1SECRET" } } },
    [bad("app.envNames.secretKey", ENV_NAME, '"1SECRET"')]],
  ["envNames.databaseUrl with a dash", { app: { envNames: { databaseUrl: "DATABASE-URL" } } },
    [bad("app.envNames.databaseUrl", ENV_NAME, '"DATABASE-URL"')]],
  ["envNames.staticRoot with a shell expansion", { app: { envNames: { staticRoot: "$(touch /tmp/x)" } } },
    [bad("app.envNames.staticRoot", ENV_NAME, '"$(touch /tmp/x)"')]],
  ["two envNames naming one variable", { app: { envNames: { secretKey: "SECRET", databaseUrl: "SECRET" } } },
    [bad("app.envNames.databaseUrl", 'names "SECRET", which envNames.secretKey names too; give each its own variable', '"SECRET"')]],
  ["envNames naming DJANGO_SETTINGS_MODULE", { app: { envNames: { brokerUrl: "DJANGO_SETTINGS_MODULE" } } },
    [bad("app.envNames.brokerUrl", "is DJANGO_SETTINGS_MODULE, which django-fleet sets from settingsModule", '"DJANGO_SETTINGS_MODULE"')]],
  ["app.env with an invalid name", { app: { env: { "bad-name": "x" } } },
    [badEnv("app.env.bad-name", "Invalid key in record")]],
  ["app.env with a value that is not text", { app: { env: { WORKERS: 4 } } },
    [badEnv("app.env.WORKERS", "expected string, received number")]],
  ["app.env setting the secret key", { app: { env: { DJANGO_SECRET_KEY: "x" } } }, [setBy("DJANGO_SECRET_KEY", "envNames.secretKey", "secretKey")]],
  ["app.env setting the database URL", { app: { env: { DATABASE_URL: "x" } } }, [setBy("DATABASE_URL", "envNames.databaseUrl", "databaseUrl")]],
  ["app.env setting the broker URL", { app: { env: { CELERY_BROKER_URL: "x" } } }, [setBy("CELERY_BROKER_URL", "envNames.brokerUrl", "brokerUrl")]],
  ["app.env setting the cache URL", { app: { env: { CACHE_URL: "x" } } }, [setBy("CACHE_URL", "envNames.cacheUrl", "cacheUrl")]],
  ["app.env setting DJANGO_SETTINGS_MODULE", { app: { env: { DJANGO_SETTINGS_MODULE: "x" } } },
    [setBy("DJANGO_SETTINGS_MODULE", "from app.settingsModule", "settingsModule")]],
  ["app.env setting a renamed credential", { app: { envNames: { secretKey: "SECRET_KEY" }, env: { SECRET_KEY: "x" } } },
    [setBy("SECRET_KEY", "envNames.secretKey", "secretKey")]],

  // --- load balancer ------------------------------------------------------------------------
  ["serverName with an nginx directive", { set: { loadBalancer: { serverName: "example.com; return 444" } } },
    [bad("loadBalancer.serverName", SERVER_NAME, '"example.com; return 444"')]],
  ["serverName with a tab", { set: { loadBalancer: { serverName: "shop.example\twww.shop.example" } } },
    [bad("loadBalancer.serverName", SERVER_NAME, '"shop.example\\twww.shop.example"')]],
  ["serverName with a brace", { set: { loadBalancer: { serverName: "shop.example {" } } },
    [bad("loadBalancer.serverName", SERVER_NAME, '"shop.example {"')]],
  ["serverName with a newline", { set: { loadBalancer: { serverName: "shop.example\n}" } } },
    [bad("loadBalancer.serverName", SERVER_NAME, '"shop.example\\n}"')]],
  ["serverName empty", { set: { loadBalancer: { serverName: "" } } }, [bad("loadBalancer.serverName", SERVER_NAME, '""')]],
  ["serverName with two spaces", { set: { loadBalancer: { serverName: "shop.example  www.shop.example" } } },
    [bad("loadBalancer.serverName", SERVER_NAME, '"shop.example  www.shop.example"')]],
  ["tls provided without paths", { set: { loadBalancer: { tls: "provided" } } },
    ['loadBalancer.tls: "provided" needs loadBalancer.certificatePath and loadBalancer.keyPath (or a tls certificate for every app). Fix: set both, or use tls "selfSigned"']],
  ["tls provided with a certificate but no key", { set: { loadBalancer: { tls: "provided", certificatePath: "/etc/ssl/shop.pem" } } },
    ['loadBalancer.tls: "provided" needs loadBalancer.certificatePath and loadBalancer.keyPath (or a tls certificate for every app). Fix: set both, or use tls "selfSigned"']],
  ["relative certificatePath", { set: { loadBalancer: { tls: "provided", certificatePath: "certs/shop.pem", keyPath: "/etc/ssl/shop.key" } } },
    [bad("loadBalancer.certificatePath", PATH, '"certs/shop.pem"')]],
  ["relative keyPath", { set: { loadBalancer: { tls: "provided", certificatePath: "/etc/ssl/shop.pem", keyPath: "shop.key" } } },
    [bad("loadBalancer.keyPath", PATH, '"shop.key"')]],
  ["keyPath with a space and a semicolon", { set: { loadBalancer: { tls: "provided", certificatePath: "/etc/ssl/shop.pem", keyPath: "/etc/ssl/shop.key; x" } } },
    [bad("loadBalancer.keyPath", PATH, '"/etc/ssl/shop.key; x"')]],


  // --- certificates from an ACME server (loadBalancer.tls "acme") ----------------------------------
  ["tls acme without an email (no acme at all)", { set: { loadBalancer: { tls: "acme", serverName: "shop.example" } } }, [ACME_EMAIL]],
  ["tls acme with acme but no email", { set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: { server: "staging" } } } }, [ACME_EMAIL]],
  ["tls acme with the default serverName _", { set: { loadBalancer: { tls: "acme", acme: ACME } } },
    [acmeName("_", "is nginx's catch-all name (any host), which no certificate can name")]],
  ["tls acme with an IP address as serverName", { set: { loadBalancer: { tls: "acme", serverName: "198.18.0.10", acme: ACME } } },
    [acmeName("198.18.0.10", ACME_IP)]],
  ["tls acme with a wildcard serverName", { set: { loadBalancer: { tls: "acme", serverName: "shop.example *.shop.example", acme: ACME } } },
    [acmeName("*.shop.example", ACME_WILDCARD)]],
  ["tls acme with a name without a dot", { set: { loadBalancer: { tls: "acme", serverName: "localhost", acme: ACME } } },
    [acmeName("localhost", "has no dot; an ACME server issues certificates for fully qualified domain names only")]],
  ["tls acme with an empty label", { set: { loadBalancer: { tls: "acme", serverName: "shop..example", acme: ACME } } },
    [acmeName("shop..example", "is not a DNS name: each dot-separated label must be 1-63 letters, digits or dashes, not starting or ending with a dash")]],
  ["tls acme with two bad names: both reported", { set: { loadBalancer: { tls: "acme", serverName: "_ 10.0.0.10 shop.example", acme: ACME } } },
    [acmeName("_", "is nginx's catch-all name (any host), which no certificate can name"), acmeName("10.0.0.10", ACME_IP)]],
  ["tls acme with a wildcard in app.domains: the entry is named", { app: { domains: ["shop.example", "*.shop.example"] }, set: { loadBalancer: { tls: "acme", acme: ACME } } },
    ["app.domains[1]: \"*.shop.example\" " + ACME_WILDCARD + ". Fix: `npm run pulumi -- config set --path 'app.domains[1]' shop.example` (a DNS name whose A record points at the load balancer)"]],
  ["tls acme without an email and with the default serverName: both reported", { set: { loadBalancer: { tls: "acme" } } },
    [ACME_EMAIL, acmeName("_", "is nginx's catch-all name (any host), which no certificate can name")]],
  ["tls acme with an app's own certificate", { app: { tls: { certificatePath: "/etc/ssl/shop.pem", keyPath: "/etc/ssl/shop.key" } }, set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: ACME } } },
    ["app.tls: a certificate is set, but loadBalancer.tls is \"acme\": certificates come from the ACME server. Fix: `npm run pulumi -- config rm --path 'app.tls'`"]],
  ["acme set while tls is selfSigned", { set: { loadBalancer: { tls: "selfSigned", acme: ACME } } }, [acmeUnused("selfSigned")]],
  ["acme set while tls is none (the default)", { set: { loadBalancer: { acme: ACME } } }, [acmeUnused("none")]],
  ["acme.email with a command after it", { set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: { email: "you@shop.example;reboot" } } } },
    [bad("loadBalancer.acme.email", EMAIL, '"you@shop.example;reboot"')]],
  ["acme.email with a command substitution", { set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: { email: "$(reboot)@shop.example" } } } },
    [bad("loadBalancer.acme.email", EMAIL, '"$(reboot)@shop.example"')]],
  ["acme.email that certbot would read as an option", { set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: { email: "-q@shop.example" } } } },
    [bad("loadBalancer.acme.email", EMAIL, '"-q@shop.example"')]],
  ["acme.email without a domain", { set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: { email: "you" } } } },
    [bad("loadBalancer.acme.email", EMAIL, '"you"')]],
  ["acme.server over plain http", { set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: { ...ACME, server: "http://198.18.0.1:14000/dir" } } } },
    [bad("loadBalancer.acme.server", ACME_SERVER, '"http://198.18.0.1:14000/dir"')]],
  ["acme.server misspelt", { set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: { ...ACME, server: "prod" } } } },
    [bad("loadBalancer.acme.server", ACME_SERVER, '"prod"')]],
  ["acme.server with a shell command", { set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: { ...ACME, server: "https://acme.example/dir;reboot" } } } },
    [bad("loadBalancer.acme.server", ACME_SERVER, '"https://acme.example/dir;reboot"')]],
  ["acme.renewBeforeDays 0", { set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: { ...ACME, renewBeforeDays: 0 } } } },
    [bad("loadBalancer.acme.renewBeforeDays", "Too small: expected number to be >=1", "0")]],
  ["acme.renewBeforeDays 90 (a whole certificate's life)", { set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: { ...ACME, renewBeforeDays: 90 } } } },
    [bad("loadBalancer.acme.renewBeforeDays", "Too big: expected number to be <=89", "90")]],
  ["acme.caFile empty", { set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: { ...ACME, caFile: "" } } } },
    [bad("loadBalancer.acme.caFile", "Too small: expected string to have >=1 characters", '""')]],
  ["unknown acme key", { set: { loadBalancer: { tls: "acme", serverName: "shop.example", acme: { ...ACME, emial: "you@shop.example" } } } },
    [unknown("loadBalancer.acme.emial")]],

  // --- packages, install, requirements --------------------------------------------------------
  ["a package with a shell command", { app: { packages: ["libpq-dev; rm -rf /"] } }, [bad("app.packages[0]", PACKAGE, '"libpq-dev; rm -rf /"')]],
  ["a package that apt would read as an option", { app: { packages: ["-y"] } }, [bad("app.packages[0]", PACKAGE, '"-y"')]],
  ["a package in upper case", { app: { packages: ["build-essential", "LibPQ"] } }, [bad("app.packages[1]", PACKAGE, '"LibPQ"')]],
  ["a package of one character", { app: { packages: ["x"] } }, [bad("app.packages[0]", PACKAGE, '"x"')]],
  ["a package apt reads as remove (trailing -)", { app: { packages: ["nftables-"] } },
    [bad("app.packages[0]", 'ends with -, which apt reads as "remove this package"; name the package itself', '"nftables-"')]],
  ...["nginx=1.0", "nginx/trixie", "nginx:amd64", "nginx^"].map((p): Case =>
    [`a package with a version, release or arch (${p})`, { app: { packages: [p] } }, [bad("app.packages[0]", PACKAGE, `"${p}"`)]]),
  ["install.method conda", { app: { install: { method: "conda" } } },
    [bad("app.install.method", 'Invalid option: expected one of "auto"|"uv"|"poetry"|"pip"', '"conda"')]],
  ["install.groups with an option", { app: { install: { groups: ["-dev"] } } },
    [bad("app.install.groups[0]", "must be a dependency group name", '"-dev"')]],
  ["install.extras with a space", { app: { install: { extras: ["a b"] } } },
    [bad("app.install.extras[0]", "must be an extra's name", '"a b"')]],
  ["requirementsFile absolute", { app: { requirementsFile: "/etc/passwd" } }, [bad("app.requirementsFile", REQ_FILE, '"/etc/passwd"')]],
  ["requirementsFile ../", { app: { requirementsFile: "../requirements.txt" } }, [bad("app.requirementsFile", REQ_FILE, '"../requirements.txt"')]],
  ["requirementsFile with .. inside", { app: { requirementsFile: "reqs/../../x.txt" } }, [bad("app.requirementsFile", REQ_FILE, '"reqs/../../x.txt"')]],
  ["requirementsFile that pip would read as an option", { app: { requirementsFile: "-rrequirements.txt" } },
    [bad("app.requirementsFile", REQ_FILE, '"-rrequirements.txt"')]],

  // --- cross-host rules ------------------------------------------------------------------------
  ["no db", { host: { roles: rest("db") } }, [role("db", DB, "0")]],
  ["two db", { set: { hosts: [BASE_HOST, { ...BASE_HOST, name: "db2", address: "10.0.0.11", roles: ["db"] }] } },
    [role("db", DB, "2 (fleet-dev, db2)")]],
  ["two beat", { set: { hosts: [BASE_HOST, { ...BASE_HOST, name: "w2", address: "10.0.0.11", roles: ["worker", "beat"] }] } },
    [role("beat", BEAT, "2 (fleet-dev, w2)")]],
  ["no broker", { host: { roles: rest("broker") } }, [role("broker", "the Celery broker", "0")]],
  ["no app", { host: { roles: rest("app") } }, ['hosts: no host has the role "app". Fix: add "app" to the roles of at least one host']],
  ["no worker", { host: { roles: rest("worker") } },
    ['hosts: no host has the role "worker", so Celery tasks would never run. Fix: add "worker" to the roles of at least one host']],
  ["a replica on the db host", { host: { roles: [...ALL_ROLES, "dbReplica"] } },
    ['hosts: "fleet-dev" has both "db" and "dbReplica"; a replica must be another host. Fix: remove one of the two roles']],
  ["a cache role without cache.kind", { host: { roles: [...ALL_ROLES, "cache"] } },
    ['hosts: (fleet-dev) has the role "cache" but cache.kind is "none". Fix: `npm run pulumi -- config set --path cache.kind memcached` (or redis), or remove the role']],
  ["cache.kind without a cache host", { set: { cache: { kind: "redis" } } },
    ['hosts: cache.kind is "redis", so exactly one host must have the role "cache"; found 0. Fix: add "cache" to the roles of exactly one host']],
  ["two cache hosts", { set: { cache: { kind: "memcached" }, hosts: [{ ...BASE_HOST, roles: [...ALL_ROLES, "cache"] }, { ...BASE_HOST, name: "c2", address: "10.0.0.11", roles: ["cache"] }] } },
    ['hosts: cache.kind is "memcached", so exactly one host must have the role "cache"; found 2 (fleet-dev, c2). Fix: add "cache" to the roles of exactly one host']],
  ["two load balancers", { set: { hosts: [BASE_HOST, { ...BASE_HOST, name: "lb2", address: "10.0.0.11", roles: ["loadBalancer"] }] } },
    ['hosts: at most one host may have the role "loadBalancer"; found 2 (fleet-dev, lb2). Fix: keep "loadBalancer" in the roles of one host and remove it from the others']],

  // --- the SSH key and the inventory -------------------------------------------------------------
  ["sshPrivateKeyPath missing, no inventory", { set: { sshPrivateKeyPath: undefined } },
    ["sshPrivateKeyPath: missing. Fix: `npm run pulumi -- config set sshPrivateKeyPath ~/.ssh/id_ed25519`, or use an inventory file that names privateKeyPath"]],
  ["sshPrivateKeyPath that does not exist", { set: { sshPrivateKeyPath: MISSING } },
    [`sshPrivateKeyPath: cannot read the SSH private key ${MISSING}. Fix: point it at a readable key file`]],
  ["sshPrivateKeyPath a folder", { set: { sshPrivateKeyPath: join(DIR, "a-folder") } },
    [`sshPrivateKeyPath: cannot read the SSH private key ${join(DIR, "a-folder")}. Fix: point it at a readable key file`]],
  ["sshPrivateKeyPath pointing at the public key", { set: { sshPrivateKeyPath: PUBLIC_KEY } },
    [`sshPrivateKeyPath: ${PUBLIC_KEY} is not a private key (no "-----BEGIN ... PRIVATE KEY-----" line; it is a public key). Fix: point it at the private half, e.g. ~/.ssh/id_ed25519 rather than ~/.ssh/id_ed25519.pub`]],
  ["sshPrivateKeyPath pointing at a text file", { set: { sshPrivateKeyPath: NOT_A_KEY } },
    [`sshPrivateKeyPath: ${NOT_A_KEY} is not a private key (no "-----BEGIN ... PRIVATE KEY-----" line). Fix: point it at the private half, e.g. ~/.ssh/id_ed25519 rather than ~/.ssh/id_ed25519.pub`]],
  ["inventoryFile that does not exist", { set: { inventoryFile: MISSING } },
    [`inventoryFile: cannot read ${MISSING}. Fix: correct the path (for local test servers, run \`scripts/testhosts up\` first)`]],
  ["inventoryFile that is not JSON", { set: { inventoryFile: inv("broken.json") } },
    [`inventoryFile: ${inv("broken.json")} is not JSON (Unexpected end of JSON input). Fix: see README "Using your own servers" for the format, or point inventoryFile at the file scripts/testhosts writes`]],
  ["inventoryFile that is not an inventory", { set: { inventoryFile: inv("servers.json") } },
    [`inventoryFile: ${inv("servers.json")}: hosts: Invalid input: expected array, received undefined. Fix: see README "Using your own servers" for the format`]],
  ["inventory host without a hostKey", { set: { inventoryFile: inv("no-key.json") } },
    [`inventoryFile: ${inv("no-key.json")}: hosts[0].hostKey: Invalid input: expected string, received undefined. Fix: see README "Using your own servers" for the format`]],
  ["inventory port as text", { set: { inventoryFile: inv("port-string.json") } },
    [`inventoryFile: ${inv("port-string.json")}: hosts[0].port: Invalid input: expected number, received string. Fix: see README "Using your own servers" for the format`]],
  ["inventory address that looks like an option", { host: { address: undefined, hostKey: undefined }, set: { inventoryFile: inv("option-address.json") } },
    ['hosts[0].address: must be an IP address or a DNS name, got "-oProxyCommand=touch /tmp/x" (from the inventory file). Fix: correct it',
      privateAddress(0, '"-oProxyCommand=touch /tmp/x"', "address")]],
  ["inventory hostKey that is not a key", { host: { address: undefined, hostKey: undefined }, set: { inventoryFile: inv("bad-key.json") } },
    ['hosts[0].hostKey: "ssh-ed25519 AAAA"... (from the inventory file) is not a valid SSH public key. Fix: use the whole line of /etc/ssh/ssh_host_ed25519_key.pub on the host']],
  ["inventory hostKey with a newline and a @cert-authority line", { host: { address: undefined, hostKey: undefined }, set: { inventoryFile: inv("key-newline.json") } },
    [`hosts[0].hostKey: the inventory file's key for "fleet-dev" holds a line break or starts with a marker (@cert-authority, @revoked); ${KEY_LINE}`]],
  ["inventory hostKey starting with @cert-authority", { host: { address: undefined, hostKey: undefined }, set: { inventoryFile: inv("key-marker.json") } },
    [`hosts[0].hostKey: the inventory file's key for "fleet-dev" holds a line break or starts with a marker (@cert-authority, @revoked); ${KEY_LINE}`]],
  ["host missing from the inventory", { host: { address: undefined, hostKey: undefined }, set: { inventoryFile: inv("other-host.json") } },
    ['hosts[0].address: missing for host "fleet-dev". Fix: set it, or add "fleet-dev" to the inventory file',
      'hosts[0].hostKey: missing for host "fleet-dev" (host keys are pinned). Fix: set it to the host\'s `ssh-ed25519 AAAA...` key, or add "fleet-dev" to the inventory file']],
  ["inventory without privateKeyPath and no sshPrivateKeyPath", { host: { address: undefined, hostKey: undefined }, set: { inventoryFile: inv("no-private-key.json"), sshPrivateKeyPath: undefined } },
    ["sshPrivateKeyPath: missing. Fix: `npm run pulumi -- config set sshPrivateKeyPath ~/.ssh/id_ed25519`, or use an inventory file that names privateKeyPath"]],
  ["inventory privateKeyPath pointing at a public key", { host: { address: undefined, hostKey: undefined }, set: { inventoryFile: inv("public-key.json"), sshPrivateKeyPath: undefined } },
    [`sshPrivateKeyPath: ${PUBLIC_KEY} is not a private key (no "-----BEGIN ... PRIVATE KEY-----" line; it is a public key). Fix: point it at the private half, e.g. ~/.ssh/id_ed25519 rather than ~/.ssh/id_ed25519.pub`]],

  // --- the repository ------------------------------------------------------------------------------
  ["a repository with nothing to install from", { repo: repo({ "manage.py": "" }) },
    ["app.install: the repository has no pyproject.toml, uv.lock, poetry.lock or requirements.txt at its root, so there is no pinned set of dependencies to install. Fix: commit a lock file (`uv lock`), or set app.requirementsFile to your requirements file"]],
  ["pyproject.toml without a lock file", { repo: repo({ "pyproject.toml": "[project]\nname = \"shop\"\n" }) },
    ["app.install: the repository has pyproject.toml without a lock file (uv.lock or poetry.lock) at its root, so there is no pinned set of dependencies to install. Fix: commit a lock file (`uv lock`), or set app.requirementsFile to your requirements file"]],
  ["uv.lock without pyproject.toml", { repo: repo({ "uv.lock": "" }) },
    ["app.install: the repository has uv.lock but no pyproject.toml next to it, and no requirements.txt at its root, so there is no pinned set of dependencies to install. Fix: commit a lock file (`uv lock`), or set app.requirementsFile to your requirements file"]],
  ["install.method uv without uv.lock", { app: { install: { method: "uv" } } },
    ['app.install.method: "uv" needs pyproject.toml and uv.lock at the repository root. Fix: run `uv lock` and commit uv.lock, or choose another method']],
  ["install.method poetry without poetry.lock", { app: { install: { method: "poetry" } }, repo: repo({ "pyproject.toml": "", "uv.lock": "" }) },
    ['app.install.method: "poetry" needs pyproject.toml and poetry.lock at the repository root. Fix: run `poetry lock` and commit poetry.lock, or choose another method']],
  ["install.method pip without requirements.txt", { app: { install: { method: "pip" } }, repo: repo({ "pyproject.toml": "", "uv.lock": "" }) },
    ['app.requirementsFile: "requirements.txt" is not in the repository. Fix: `npm run pulumi -- config set --path app.requirementsFile <path>` (relative to the repository root)']],
  ["requirementsFile not in the repository", { app: { requirementsFile: "requirements/prod.txt" } },
    ['app.requirementsFile: "requirements/prod.txt" is not in the repository. Fix: `npm run pulumi -- config set --path app.requirementsFile <path>` (relative to the repository root)']],

  // --- several problems at once ---------------------------------------------------------------------
  ["every schema problem is listed, the namespace typo first", {
    raw: { "django-flet:protectData": "true" },
    host: { address: "-oProxyCommand=x", port: 0 },
    app: { name: "root", ref: "-b", gunicron: {} },
    set: { broker: { kind: "sqs" }, celery: { concurrency: 0 }, logging: { retentionDays: 0 } },
  }, [
    'django-flet:protectData: the namespace "django-flet" is not "django-fleet", so this key would be ignored. Fix: `npm run pulumi -- config rm \'django-flet:protectData\'` and set it as django-fleet:protectData',
    bad("hosts[0].address", ADDRESS, '"-oProxyCommand=x"'),
    bad("hosts[0].port", "Too small: expected number to be >=1", "0"),
    bad("app.name", RESERVED, '"root"'),
    bad("app.ref", REF, '"-b"'),
    unknown("app.gunicron"),
    bad("broker.kind", 'Invalid option: expected one of "rabbitmq"|"redis"', '"sqs"'),
    bad("celery.concurrency", "Too small: expected number to be >=1", "0"),
    bad("logging.retentionDays", "Too small: expected number to be >=1", "0"),
  ]],
  ["every topology problem is listed", {
    set: {
      sshPrivateKeyPath: undefined,
      cache: { kind: "redis" },
      hosts: [
        { ...BASE_HOST, roles: ["app", "dbReplica", "db", "loadBalancer"], privateAddress: "db.internal" },
        { ...BASE_HOST, address: "10.0.0.11", roles: ["db", "loadBalancer"] },
        { name: "x", roles: ["worker"] },
      ],
    },
  }, [
    'hosts[1].name: "fleet-dev" is used twice. Fix: give every host its own name',
    privateAddress(0, '"db.internal"'),
    'hosts[2].address: missing for host "x". Fix: set it, or add "x" to the inventory file',
    'hosts[2].hostKey: missing for host "x" (host keys are pinned). Fix: set it to the host\'s `ssh-ed25519 AAAA...` key, or add "x" to the inventory file',
    role("db", DB, "2 (fleet-dev, fleet-dev)"),
    role("broker", "the Celery broker", "0"),
    role("beat", BEAT, "0"),
    'hosts: at most one host may have the role "loadBalancer"; found 2 (fleet-dev, fleet-dev). Fix: keep "loadBalancer" in the roles of one host and remove it from the others',
    'hosts: "fleet-dev" has both "db" and "dbReplica"; a replica must be another host. Fix: remove one of the two roles',
    'hosts: cache.kind is "redis", so exactly one host must have the role "cache"; found 0. Fix: add "cache" to the roles of exactly one host',
    "sshPrivateKeyPath: missing. Fix: `npm run pulumi -- config set sshPrivateKeyPath ~/.ssh/id_ed25519`, or use an inventory file that names privateKeyPath",
  ]],
];

describe("invalid stack configs are refused, each problem naming its key", () => {
  it("has at least 60 cases, with distinct names", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CASES.map(([name]) => name)).size).toBe(CASES.length);
  });

  it("the message helpers spell config/load.ts's messages", () => {
    expect(problems({ app: { port: 70000 } })).toEqual([
      "app.port: Too big: expected number to be <=65535, got 70000. Fix: `npm run pulumi -- config set --path 'app.port' <value>`",
    ]);
    expect(problems({ set: { app: undefined } })).toEqual(["app: is required (or apps, a list of apps). Fix: `npm run pulumi -- config set --path 'app' <value>`"]);
    expect(problems({ set: { databse: {} } })).toEqual([
      "databse: unknown key. Fix: remove it (`npm run pulumi -- config rm --path 'databse'`) or correct its spelling",
    ]);
  });

  it("the base config and a valid inventory are accepted (so each case fails for its own reason)", () => {
    expect(check({}).app!.name).toBe("shop");
    expect(check({ host: { address: undefined, hostKey: undefined }, set: { inventoryFile: inv("ok.json"), sshPrivateKeyPath: undefined } }).inventoryFile).toBe(inv("ok.json"));
    // Real ECDSA and RSA host keys, other namespaces, and the legacy ns:config:key form pass too.
    expect(check({ host: { hostKey: KEY_ECDSA } }).hosts[0]!.hostKey).toBe(KEY_ECDSA);
    expect(check({ host: { hostKey: KEY_RSA } }).hosts[0]!.hostKey).toBe(KEY_RSA);
    expect(check({ raw: { "aws:region": "eu-west-1", "django-fleet:config:protectData": "true" } }).protectData).toBe(true);
  });

  for (const [name, input, expected] of CASES) {
    it(name, () => {
      expect(problems(input)).toEqual(expected);
    });
  }

  it("all of them are refused in well under a second each", () => {
    const started = performance.now();
    for (const [, input] of CASES) expect(() => check(input)).toThrow(ConfigError);
    expect((performance.now() - started) / CASES.length).toBeLessThan(100);
  });

  it("a 100 000-character value is refused quickly, and shown cut to 60 characters", () => {
    const long = "a".repeat(100_000);
    const started = performance.now();
    expect(problems({ host: { address: `${long};` }, app: { repo: long, ref: `${long}..`, settingsModule: `${long}-` } })).toEqual([
      bad("hosts[0].address", ADDRESS, `"${"a".repeat(56)}...`),
      bad("app.repo", REPO, `"${"a".repeat(56)}...`),
      bad("app.ref", REF, `"${"a".repeat(56)}...`),
      bad("app.settingsModule", "must be a dotted Python module path", `"${"a".repeat(56)}...`),
    ]);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

// ---------------------------------------------------------------------------------------
// Bugs: inputs that are accepted (or not refused in seconds). Each test states what the
// issue promises; they fail until config/schema/ (or topology.ts / files.ts) is fixed.

/** Problems of a config, or "accepted". */
function verdict(i: Input): string[] | "accepted" {
  try {
    check(i);
    return "accepted";
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

/** Refused, and every problem names `key` first. */
function expectRefusedNaming(i: Input, key: string): void {
  const v = verdict(i);
  expect(v, `expected a ConfigError naming ${key}`).not.toBe("accepted");
  for (const p of v as string[]) expect(p.startsWith(`${key}:`), p).toBe(true);
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Runs parseConfig on `raw` in a child node (the same one running vitest) and reports
 * whether it finished within `ms`: a regex that backtracks exponentially cannot be
 * interrupted in this process.
 */
function parsesWithin(raw: Record<string, string>, ms: number): boolean {
  const code = `import { parseConfig } from ${JSON.stringify(join(ROOT, "config/load.ts"))};\n`
    + `try { parseConfig(${JSON.stringify(raw)}); } catch {}\n`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { timeout: ms, encoding: "utf8" });
  if (r.error && (r.error as NodeJS.ErrnoException).code !== "ETIMEDOUT") throw r.error;
  if (r.status !== 0 && r.signal === null) throw new Error(`node failed: ${r.stderr}`);
  return r.signal === null;
}

const baseUnit = { appName: "shop", user: "shop", group: "shop", sourceDir: "/srv/shop/source", venvDir: "/srv/shop/venv", envFile: "/srv/shop/env" };
const upstreams = [{ address: "127.0.0.1", port: 8000 }];

// Each of these was accepted (or slow, or misreported) until the review that wrote it;
// they stay as regression tests.
describe("bad input found by review, refused up front", () => {
  it("the child-process timer itself works (a valid config parses within the limit)", () => {
    expect(parsesWithin(rawConfig({}), 10_000)).toBe(true);
  });

  it("loadBalancer.serverName of 30 words and a bad character takes minutes (exponential regex)", () => {
    // The name and the IP alternatives of the serverName regex both match "a", so each
    // word doubles the backtracking: 28 words took 72 s here.
    expect(parsesWithin(rawConfig({ set: { loadBalancer: { serverName: `${"a ".repeat(30)}!` } } }), 3_000)).toBe(true);
  });

  it("loadBalancer.certificatePath of 40 characters and a bad one takes minutes (exponential regex)", () => {
    // absolutePath is /^\/(?:[A-Za-z0-9._@+-]+\/?)*$/: (a+)* with an optional separator.
    expect(parsesWithin(rawConfig({ set: { loadBalancer: { keyPath: `/${"a".repeat(40)}!` } } }), 3_000)).toBe(true);
  });

  it("an envName that collides with another's default is reported as \"is required\"", () => {
    // The superRefine's issue points at envNames.databaseUrl, which the user never set, so
    // describe() finds no value there and prints "is required" instead of the collision.
    const v = verdict({ app: { envNames: { secretKey: "DATABASE_URL" } } });
    expect(v).not.toBe("accepted");
    expect((v as string[]).length).toBe(1);
    expect((v as string[])[0]).toMatch(/^app\.envNames\.secretKey: names "DATABASE_URL", which envNames\.databaseUrl names too/);
  });

  it("app.port 25672 on the RabbitMQ host clashes with RabbitMQ's distribution port, unchecked", () => {
    // listeners() knows 5672 only; rabbitmq-server also listens on 25672 (and epmd on 4369).
    expectRefusedNaming({ app: { port: 25672 } }, "app.port");
  });

  it("app.name starting with _ is accepted, and the systemd renderers throw a plain Error later", () => {
    expect(() => renderGunicornUnit({ ...baseUnit, appName: "_shop", user: "_shop", group: "_shop", wsgiModule: "shop.wsgi:application", configFile: "/etc/_shop/gunicorn.conf.py" }))
      .toThrow('gunicorn unit appName "_shop" is invalid');
    expectRefusedNaming({ app: { name: "_shop" } }, "app.name");
  });

  it("app.wsgiModule with an empty segment (shop..wsgi) is accepted; the gunicorn unit renderer throws", () => {
    expect(() => renderGunicornUnit({ ...baseUnit, wsgiModule: "shop..wsgi:application", configFile: "/etc/shop/gunicorn.conf.py" })).toThrow("gunicorn wsgiModule");
    expectRefusedNaming({ app: { wsgiModule: "shop..wsgi:application" } }, "app.wsgiModule");
  });

  it("app.celeryApp ending with : is accepted; the celery unit renderer throws", () => {
    expect(() => renderCeleryWorkerUnit({ ...baseUnit, celeryApp: "shop:" })).toThrow("celery worker celeryApp");
    expectRefusedNaming({ app: { celeryApp: "shop:" } }, "app.celeryApp");
  });

  it("app.gunicorn.maxRequests above 10 000 000 is accepted; the gunicorn config renderer throws", () => {
    expect(() => renderGunicornConf({ bindAddress: "127.0.0.1", port: 8000, maxRequests: 20_000_000 })).toThrow("gunicorn maxRequests");
    expectRefusedNaming({ app: { gunicorn: { maxRequests: 20_000_000 } } }, "app.gunicorn.maxRequests");
  });

  it("loadBalancer.certificatePath with a .. segment is accepted; the nginx renderer throws", () => {
    const lb = { tls: "provided", certificatePath: "/etc/ssl/../shop.pem", keyPath: "/etc/ssl/shop.key" };
    expect(() => renderNginxSite({ appName: "shop", upstreams, tls: { certificatePath: lb.certificatePath, keyPath: lb.keyPath } })).toThrow('".." segments are not allowed');
    expectRefusedNaming({ set: { loadBalancer: lb } }, "loadBalancer.certificatePath");
  });

  it("loadBalancer.serverName with an IPv6 address is accepted; the nginx renderer throws", () => {
    expect(() => renderNginxSite({ appName: "shop", upstreams, serverName: "[2001:db8::1]" })).toThrow("nginx serverName");
    expectRefusedNaming({ set: { loadBalancer: { serverName: "[2001:db8::1]" } } }, "loadBalancer.serverName");
  });

  it("an inventory user that looks like an ssh option is accepted (config's hosts[].user would refuse it)", () => {
    const v = verdict({ host: { address: undefined, hostKey: undefined }, set: { inventoryFile: inv("option-user.json") } });
    expect(v).not.toBe("accepted");
    for (const p of v as string[]) expect(p).toMatch(/^(inventoryFile|hosts\[0\]\.user):/);
  });

  it("an inventory port 0 is accepted (config's hosts[].port would refuse it)", () => {
    const v = verdict({ host: { address: undefined, hostKey: undefined }, set: { inventoryFile: inv("port-zero.json") } });
    expect(v).not.toBe("accepted");
    for (const p of v as string[]) expect(p).toMatch(/^(inventoryFile|hosts\[0\]\.port):/);
  });

  it("an inventory problem does not say which entry and field is wrong", () => {
    // "is not an inventory (Invalid input: expected string, received undefined)": the
    // missing field is hosts[0].hostKey of the file, which the message never names.
    const v = verdict({ set: { inventoryFile: inv("no-key.json") } });
    expect(v).not.toBe("accepted");
    expect((v as string[])[0]).toContain("hosts[0].hostKey");
  });

  for (const [what, value] of [["NUL", "a\u0000b"], ["a byte-order mark", "\ufeff"], ["a lone surrogate", "\ud800"]] as const) {
    it(`an app.env value with ${what} is accepted; renderEnvFile throws a plain Error at deploy time`, () => {
      expect(() => renderEnvFile({ FEATURE: value })).toThrow("environment variable FEATURE: value contains NUL, U+FEFF or a lone surrogate");
      expectRefusedNaming({ app: { env: { FEATURE: value } } }, "app.env.FEATURE");
    });
  }

  it("app.env.__proto__ is accepted without checking its value, and silently dropped", () => {
    const raw = rawConfig({});
    raw["django-fleet:app"] = JSON.stringify(BASE_APP).replace(/}$/, ',"env":{"__proto__":{"A":1}}}');
    let v: string[] | "accepted" = "accepted";
    try {
      parseConfig(raw);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      v = e.problems;
    }
    expect(v).not.toBe("accepted");
    for (const p of v as string[]) expect(p.startsWith("app.env.__proto__:"), p).toBe(true);
  });

  it("the whole line of a host's .pub file (with its comment), which the hint says to copy, is refused", () => {
    // The inventory takes the same line (validHostKey splits on spaces); the config does not,
    // and its message cuts the value at 60 characters, so the comment that fails is never shown.
    expect(verdict({ host: { address: undefined, hostKey: undefined }, set: { inventoryFile: inv("pub-line.json") } })).toBe("accepted");
    expect(verdict({ host: { hostKey: `${KEY_B} root@fleet-dev` } })).toBe("accepted");
  });
});
