/**
 * The stack's configuration, one strict zod schema composed from one schema per part.
 * Every key lives under the `django-fleet:` namespace in Pulumi.<stack>.yaml. Unknown
 * keys are errors (a typo must not silently fall back to a default).
 */
import { z } from "zod";
import { RELEASE_IDS } from "./releases.ts";
import { ACME_DIRECTORY_RE, ACME_EMAIL_RE, ACME_SERVERS } from "./acme.ts";
import { calendarProblem } from "./onCalendar.ts";
import { reservedDatabaseUser, SYSTEM_NAMES } from "./reservedNames.ts";

/** The roles a host can hold. One host may hold all of them (the dev stack). */
export const ROLES = ["loadBalancer", "app", "worker", "beat", "db", "dbReplica", "broker", "cache", "logging"] as const;
export type Role = (typeof ROLES)[number];

const name = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "must be lower-case letters, digits and dashes, starting with a letter");

/** An IPv4/IPv6 address or a DNS name: never something ssh or git could read as an option. */
export const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
const hostAddress = z.string().regex(HOST_RE, "must be an IP address or a DNS name");

/** A Unix user name (never read as an option: no leading dash). */
export const unixUser = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a Unix user name");

/** An absolute path of plain segments (what nginx and the shell take without quoting surprises). */
const absolutePath = z.string().regex(/^\/(?:[A-Za-z0-9._@+-]+\/)*[A-Za-z0-9._@+-]*$/, "must be an absolute path of letters, digits and ._@+- segments")
  .refine((p) => !p.split("/").some((seg) => seg === ".." || seg === "."), "must not contain . or .. segments");

/** One nginx server name: `shop.example`, `*.shop.example`, an IPv4 address, or `_`. */
const SERVER_NAME = /^(?:_|(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;

/** A dotted Python module path. */
const MODULE = "[A-Za-z_]\\w*(?:\\.[A-Za-z_]\\w*)*";

/** System accounts an app must never run as (its name is the app's user). */
export const RESERVED_USERS = new Set([
  "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data", "backup",
  "list", "irc", "gnats", "nobody", "nogroup", "systemd-network", "systemd-resolve", "systemd-timesync", "messagebus",
  "sshd", "postgres", "mysql", "redis", "rabbitmq", "memcache", "nginx", "syslog", "admin", "sudo", "adm", "staff", "users",
  "polkitd", "tss", "uuidd", "_apt", "debian",
]);

/** Whether `key` (`TYPE BASE64`) is a well-formed SSH public key of that type (its blob names the same type). */
export function validHostKey(key: string): boolean {
  const [type, b64] = key.trim().split(/\s+/);
  if (!type || !b64) return false;
  const blob = Buffer.from(b64, "base64");
  if (blob.toString("base64").replace(/=+$/, "") !== b64.replace(/=+$/, "") || blob.length < 4) return false;
  const len = blob.readUInt32BE(0);
  if (blob.subarray(4, 4 + len).toString("latin1") !== type) return false;
  // ed25519: type, then a 32-byte key: 4 + 11 + 4 + 32 bytes.
  return type !== "ssh-ed25519" || blob.length === 51;
}
const ident = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be lower-case letters, digits and underscores");
/** A database login role the app owns: never a superuser's or one django-fleet uses itself. */
const databaseUser = ident.refine((u) => !reservedDatabaseUser(u), "is a database superuser, a role django-fleet uses itself or a name the database reserves; the app would own its rights, so pick the app's own (e.g. shop)");

/**
 * Credentials in a git URL (`https://user:TOKEN@host/...`, `https://TOKEN@host/...`) would
 * sit in argv on this machine and on every host, in state and in previews. Refused.
 */
export function repoCredentials(repo: string): boolean {
  const m = /^([a-z]+):\/\/([^/?#]*)@/.exec(repo);
  if (!m) return false;
  // ssh:// and git:// name a login user (ssh://git@host/...); a password after it is a credential.
  return m[1] === "http" || m[1] === "https" || m[2]!.includes(":");
}
const port = z.number().int().min(1).max(65535);

export const hostSchema = z.strictObject({
  /** Name of the host, unique in the stack; also its key in the inventory file. */
  name,
  /** Address to reach it over SSH. @default the inventory file's address for `name` */
  address: hostAddress.optional(),
  /** Address other hosts use to reach it (a private network). @default `address` */
  privateAddress: hostAddress.optional(),
  /** SSH port. @default the inventory's port, else 22 */
  port: port.optional(),
  /** SSH user: root, or a user with passwordless sudo. @default the inventory's user, else "root" */
  user: unixUser.optional(),
  /** The host's SSH public key (`ssh-ed25519 AAAA...`), pinned. @default the inventory's */
  hostKey: z.string().transform((k) => k.trim()).pipe(z.string().regex(/^(ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+(?: [^\n]*)?$/, "must be `TYPE BASE64` as in known_hosts"))
    .refine(validHostKey, "is not a valid SSH public key (copy the whole line of /etc/ssh/ssh_host_ed25519_key.pub)")
    // The comment after the key (root@host) is not part of it.
    .transform((k) => k.split(" ").slice(0, 2).join(" ")).optional(),
  /** What this host does. */
  roles: z.array(z.enum(ROLES)).min(1, "needs at least one role"),
  /**
   * The host's Debian release. Set it to preview without reaching the host; `up` still
   * refuses a host that runs another release. @default read from the host's /etc/os-release
   */
  os: z.enum(RELEASE_IDS).optional(),
});

export const gunicornSchema = z.strictObject({
  /** Worker processes. @default 3 */
  workers: z.number().int().min(1).max(64).default(3),
  /** Seconds before a silent worker is killed and restarted. @default 30 */
  timeoutSeconds: z.number().int().min(1).max(3600).default(30),
  /** Requests a worker serves before it is recycled (0: never). @default 1000 */
  maxRequests: z.number().int().min(0).max(10_000_000).default(1000),
});

/** What an app node must answer after it switched to a new release (the health gate). */
export const healthCheckSchema = z.strictObject({
  /** Path requested on the node itself, with its own address as Host. @default "/" */
  path: z.string().regex(/^\/[\x21-\x7e]*$/, "must be a URL path starting with / (e.g. /healthz), without spaces").default("/"),
  /** The status the check expects. @default any 2xx or 3xx */
  status: z.number().int().min(100).max(599).optional(),
  /** Seconds the node has to pass the check before it is switched back. @default 60 */
  timeoutSeconds: z.number().int().min(1).max(3600).default(60),
});

/** How a new release rolls out over the app nodes. */
export const deploySchema = z.strictObject({
  /** App nodes switched at once; the next batch waits for this one's health gate. @default 1 */
  batchSize: z.number().int().min(1, "must be at least 1 (app nodes switched at once)").default(1),
  /** Seconds a node stays out of the load balancer before it restarts, so requests in flight finish. @default 5 */
  drainSeconds: z.number().min(0).max(3600).default(5),
  /** Seconds a Celery worker has to finish its running tasks when it restarts onto a new release. @default 60 */
  celeryStopTimeoutSeconds: z.number().int().min(1).max(86_400).default(60),
});

/** The variables django-fleet writes, by default. */
const ENV_DEFAULTS = {
  secretKey: "DJANGO_SECRET_KEY", databaseUrl: "DATABASE_URL", brokerUrl: "CELERY_BROKER_URL", allowedHosts: "DJANGO_ALLOWED_HOSTS",
  staticRoot: "DJANGO_STATIC_ROOT", mediaRoot: "DJANGO_MEDIA_ROOT", cacheUrl: "CACHE_URL",
  mediaStorage: "DJANGO_MEDIA_STORAGE", mediaBucket: "AWS_STORAGE_BUCKET_NAME", mediaEndpoint: "AWS_S3_ENDPOINT_URL",
  mediaRegion: "AWS_S3_REGION_NAME", mediaAccessKeyId: "AWS_ACCESS_KEY_ID", mediaSecretAccessKey: "AWS_SECRET_ACCESS_KEY",
  mediaAddressingStyle: "AWS_S3_ADDRESSING_STYLE", mediaLocation: "AWS_LOCATION", mediaCustomDomain: "AWS_S3_CUSTOM_DOMAIN",
  mediaCaBundle: "AWS_CA_BUNDLE",
} as const;

const envVar = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name");

export const appSchema = z.strictObject({
  /** Short name of the app: the system user, `/srv/<name>`, unit names. */
  name: z.string().regex(/^[a-z][a-z0-9_]{0,30}$/, "must be lower-case letters, digits and underscores, starting with a letter (it names a user and units)")
    .refine((n) => !RESERVED_USERS.has(n), "is a system account; the app runs as a user of this name, so pick the app's own (e.g. shop)")
    .refine((n) => RESERVED_USERS.has(n) || !SYSTEM_NAMES.has(n), "names a system account or folder (/var/lib/<name>, /etc/<name>, /var/log/<name>, /run/<name>), which the app's user would take over; pick the app's own (e.g. shop)"),
  /** Git URL the hosts clone the app from: `https://`, `ssh://`, `git://`, `file://`, `user@host:path` or an absolute path. */
  repo: z.string().regex(/^(?:(?:https?|git|ssh|file):\/\/[^\s-][^\s]*|[A-Za-z0-9_.][A-Za-z0-9_.-]*@[A-Za-z0-9][A-Za-z0-9_.-]*:[^\s]+|\/[^\s]*)$/,
    "must be a git URL (https://, ssh://, git://, file://, user@host:path) or an absolute path")
    .refine((r) => !repoCredentials(r), "holds credentials (user:token@), which would show in process lists, state and previews on this machine and every host; give the URL without them (django-fleet cannot yet hand hosts a token or deploy key, so the repository must be readable without one)"),
  /** Branch, tag or commit to deploy. @default "main" */
  ref: z.string().regex(/^(?![-/.])(?!.*\.\.)(?!.*\/\/)(?!.*[./]$)[A-Za-z0-9._/+-]+$/, "must be a branch, tag or commit name").default("main"),
  /** Django settings module. */
  settingsModule: z.string().regex(new RegExp(`^${MODULE}$`), "must be a dotted Python module path"),
  /** WSGI application, `module:attribute`. */
  wsgiModule: z.string().regex(new RegExp(`^${MODULE}:[A-Za-z_]\\w*$`), "must be `module.path:attribute`"),
  /** Celery app for `celery -A`. @default the package of `settingsModule` */
  celeryApp: z.string().regex(new RegExp(`^${MODULE}(?::[A-Za-z_]\\w*)?$`), "must be a dotted module path, optionally with `:attribute`").optional(),
  /**
   * pip requirements file, relative to the repository root; setting it chooses pip.
   * @default requirements.txt, used when the repository has no uv.lock or poetry.lock
   */
  requirementsFile: z.string().regex(/^(?!-)(?!\/)(?!.*\.\.)[\w./-]+$/, "must be a relative path inside the repository").optional(),
  /** How the Python dependencies are installed. */
  install: z.strictObject({
    /** `auto` (uv.lock: uv, poetry.lock: Poetry, else the requirements file with pip), or one of them. @default "auto" */
    method: z.enum(["auto", "uv", "poetry", "pip"]).default("auto"),
    /** Dependency groups installed besides the main dependencies (uv, Poetry); dev groups never are. @default [] */
    groups: z.array(z.string().regex(/^[A-Za-z0-9][\w.-]*$/, "must be a dependency group name")).default([]),
    /** Extras of the project to install (uv, Poetry). @default [] */
    extras: z.array(z.string().regex(/^[A-Za-z0-9][\w.-]*$/, "must be an extra's name")).default([]),
  }).prefault({}),
  /**
   * Extra Debian packages the app needs on every host that runs its code, e.g. `libpq-dev`
   * and `build-essential` to build `psycopg[c]`. @default []
   */
  packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, "must be a Debian package name (lower-case letters, digits, + - .)")
    // apt reads a trailing - as "remove"; =, / and : (version, release, arch) are refused above.
    .refine((p) => !p.endsWith("-"), "ends with -, which apt reads as \"remove this package\"; name the package itself")).default([]),
  /**
   * Who serves `STATIC_URL`: `nginx` (from the project's STATIC_ROOT) or `app` (the project
   * serves its own static files, e.g. WhiteNoise; nginx passes the requests on). @default "nginx"
   */
  static: z.enum(["nginx", "app"]).default("nginx"),
  /** Separator of list values in the environment (DJANGO_ALLOWED_HOSTS). @default "," (django-environ's list format) */
  listSeparator: z.string().regex(/^[,; :|]$/, "must be one of , ; : | or a space").default(","),
  /**
   * With loadBalancer.serverName "_" (any name): ALLOWED_HOSTS "*", so Django answers any Host
   * header. Off, it lists the load balancer's and the app host's addresses (and loopback):
   * with "*", a forged Host header ends up in absolute links such as password-reset mails.
   * @default false
   */
  allowAnyHost: z.boolean().default(false),
  /**
   * Port gunicorn listens on. @default 8000 for `app`; in `apps`, a port from 8100-8999
   * derived from the app's name alone, so adding, removing or reordering other apps never
   * moves it (two apps that land on the same port are refused: set one's port)
   */
  port: port.optional(),
  /**
   * Host names nginx serves this app under (`shop.example`, `*.shop.example`).
   * @default loadBalancer.serverName for `app`; required for each app in `apps` with more than one app
   */
  domains: z.array(z.string().regex(SERVER_NAME, "must be a host name such as shop.example or *.shop.example").refine((n) => n !== "_", "must be a host name (_ is the default server's)")).min(1, "needs at least one host name").optional(),
  /** Names of the hosts (with the role app, worker or beat) that run this app. @default every such host */
  hosts: z.array(name).min(1, "needs at least one host").optional(),
  /** With loadBalancer.tls "provided": this app's certificate and key on the load balancer. @default loadBalancer.certificatePath and keyPath (one wildcard certificate) */
  tls: z.strictObject({
    /** Certificate chain path on the load balancer host. */
    certificatePath: absolutePath,
    /** Private key path on the load balancer host. */
    keyPath: absolutePath,
  }).optional(),
  /** The app's own database and login role on the fleet's database server. */
  database: z.strictObject({
    /** @default database.name with one app, else the app's name */ name: ident.optional(),
    /** @default database.user with one app, else the app's name */ user: databaseUser.optional(),
  }).optional(),
  /** The app's Celery workers and beat. */
  celery: z.strictObject({
    /** Worker processes per worker host. @default celery.concurrency */
    concurrency: z.number().int().min(1).max(64).optional(),
    /** Queues this app's workers consume. @default celery.queues */
    queues: z.array(z.string().regex(/^[\w.-]+$/, "must be a queue name of letters, digits, _ . and -")).min(1).optional(),
    /** Run this app's Celery beat (on the fleet's beat host). @default true */
    beat: z.boolean().default(true),
  }).optional(),
  /** Key prefix of this app's uploads in the media bucket (media.storage "s3"). @default media.location for `app`; `<media.location>/<name>` for each app in `apps` */
  mediaLocation: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/, "must be slash-separated segments of letters, digits, . _ and -").optional(),
  /** The app's place on the broker. */
  broker: z.strictObject({
    /** Redis database number of its Celery queue (broker.kind redis; the cache uses 1). @default 0 */
    redisDb: z.number().int().min(0).max(15).optional(),
  }).optional(),
  /** Extra environment variables for the app (plain values; secrets belong in secret config). @default {} */
  env: z.record(envVar.refine((k) => k !== "__proto__", "is not allowed as a variable name"),
    z.string().refine((v) => !/[\0\uFEFF]|\p{Surrogate}/u.test(v), "holds NUL, U+FEFF or a lone surrogate, which an environment file cannot hold")).default({}),
  /** Names of the variables the app reads its settings from. */
  envNames: z.strictObject({
    /** @default "DJANGO_SECRET_KEY" */ secretKey: envVar.default("DJANGO_SECRET_KEY"),
    /** @default "DATABASE_URL" */ databaseUrl: envVar.default("DATABASE_URL"),
    /** @default "CELERY_BROKER_URL" */ brokerUrl: envVar.default("CELERY_BROKER_URL"),
    /** @default "DJANGO_ALLOWED_HOSTS" */ allowedHosts: envVar.default("DJANGO_ALLOWED_HOSTS"),
    /** @default "DJANGO_STATIC_ROOT" */ staticRoot: envVar.default("DJANGO_STATIC_ROOT"),
    /** @default "DJANGO_MEDIA_ROOT" */ mediaRoot: envVar.default("DJANGO_MEDIA_ROOT"),
    /** @default "CACHE_URL" (set only when a cache is configured) */ cacheUrl: envVar.default("CACHE_URL"),
    // The media variables are set only with media.storage "s3"; their defaults are what
    // django-storages' S3 settings are called.
    /** @default "DJANGO_MEDIA_STORAGE" ("s3") */ mediaStorage: envVar.default("DJANGO_MEDIA_STORAGE"),
    /** @default "AWS_STORAGE_BUCKET_NAME" */ mediaBucket: envVar.default("AWS_STORAGE_BUCKET_NAME"),
    /** @default "AWS_S3_ENDPOINT_URL" */ mediaEndpoint: envVar.default("AWS_S3_ENDPOINT_URL"),
    /** @default "AWS_S3_REGION_NAME" */ mediaRegion: envVar.default("AWS_S3_REGION_NAME"),
    /** @default "AWS_ACCESS_KEY_ID" */ mediaAccessKeyId: envVar.default("AWS_ACCESS_KEY_ID"),
    /** @default "AWS_SECRET_ACCESS_KEY" */ mediaSecretAccessKey: envVar.default("AWS_SECRET_ACCESS_KEY"),
    /** @default "AWS_S3_ADDRESSING_STYLE" ("path" or "virtual") */ mediaAddressingStyle: envVar.default("AWS_S3_ADDRESSING_STYLE"),
    /** @default "AWS_LOCATION" */ mediaLocation: envVar.default("AWS_LOCATION"),
    /** @default "AWS_S3_CUSTOM_DOMAIN" (set only with media.customDomain) */ mediaCustomDomain: envVar.default("AWS_S3_CUSTOM_DOMAIN"),
    /** @default "AWS_CA_BUNDLE" (set only with a target caFile; boto3 reads it itself) */ mediaCaBundle: envVar.default("AWS_CA_BUNDLE"),
  }).prefault({}).superRefine((names, ctx) => {
    const seen = new Map<string, string>();
    for (const [k, v] of Object.entries(names)) {
      const other = seen.get(v);
      // Reported on the name the user changed (the one that is not its own default).
      const own = (key: string) => names[key as keyof typeof names] !== ENV_DEFAULTS[key as keyof typeof ENV_DEFAULTS];
      if (other) {
        const [at, and] = own(other) && !own(k) ? [other, k] : [k, other];
        ctx.addIssue({ code: "custom", path: [at], message: `names ${JSON.stringify(v)}, which envNames.${and} names too; give each its own variable` });
      } else seen.set(v, k);
    }
    if (seen.has("DJANGO_SETTINGS_MODULE")) ctx.addIssue({ code: "custom", path: [seen.get("DJANGO_SETTINGS_MODULE")!], message: "is DJANGO_SETTINGS_MODULE, which django-fleet sets from settingsModule" });
  }),
  /** gunicorn settings. */
  gunicorn: gunicornSchema.prefault({}),
  /**
   * Releases kept on each host under /srv/<app>/releases, the running one included; a ref
   * set back to a kept release switches to it without git or pip. @default 3
   */
  keepReleases: z.number().int().min(1, "must be at least 1 (the running release is always kept)").max(20).default(3),
  /** The check each app node must pass after a switch before the next node switches. */
  healthCheck: healthCheckSchema.prefault({}),
}).superRefine((app, ctx) => {
  // Credentials are written after app.env and would silently win over it.
  const n = app.envNames;
  for (const [key, v] of [["secretKey", n.secretKey], ["databaseUrl", n.databaseUrl], ["brokerUrl", n.brokerUrl], ["cacheUrl", n.cacheUrl], ["mediaAccessKeyId", n.mediaAccessKeyId], ["mediaSecretAccessKey", n.mediaSecretAccessKey], ["settingsModule", "DJANGO_SETTINGS_MODULE"]] as const) {
    if (v in app.env) ctx.addIssue({ code: "custom", path: ["env", v], message: `is set by django-fleet (${key === "settingsModule" ? "from app.settingsModule" : `envNames.${key}`}), so this value would be ignored; remove it, or rename envNames.${key}` });
  }
});

export const databaseSchema = z.strictObject({
  /** Database engine: PostgreSQL (streaming replicas) or MariaDB (binlog replication). @default "postgresql" */
  engine: z.enum(["postgresql", "mariadb"]).default("postgresql"),
  /** Database name. @default the app name */
  name: ident.optional(),
  /** Owning login role. @default the app name */
  user: databaseUser.optional(),
  /** Port. @default 5432 for PostgreSQL, 3306 for MariaDB */
  port: port.optional(),
}).transform((d) => ({ ...d, port: d.port ?? (d.engine === "mariadb" ? 3306 : 5432) }));

export const brokerSchema = z.strictObject({
  /** Broker for Celery. @default "rabbitmq" */
  kind: z.enum(["rabbitmq", "redis"]).default("rabbitmq"),
});

export const cacheSchema = z.strictObject({
  /** Shared cache for the app: none, Redis (password-protected), or memcached (private network only). @default "none" */
  kind: z.enum(["none", "redis", "memcached"]).default("none"),
});

export const celerySchema = z.strictObject({
  /** Worker processes per worker host. @default 2 */
  concurrency: z.number().int().min(1).max(64).default(2),
  /** Queues the workers consume. @default ["celery"] */
  queues: z.array(z.string().regex(/^[\w.-]+$/, "must be a queue name of letters, digits, _ . and -")).min(1).default(["celery"]),
});

/** Certificates from an ACME server (Let's Encrypt) with loadBalancer.tls "acme": certbot, HTTP-01 on port 80. */
export const acmeSchema = z.strictObject({
  /** Contact address of the ACME account certbot registers. Required with tls "acme" (checked with the topology). */
  email: z.string().max(254).regex(ACME_EMAIL_RE, "must be an email address such as you@example.com").optional(),
  /**
   * The ACME server: "production" (Let's Encrypt), "staging" (Let's Encrypt's test server,
   * certificates no browser trusts), or the https:// URL of another server's directory.
   * @default "production"
   */
  server: z.string().max(2048).refine((v) => Object.hasOwn(ACME_SERVERS, v) || ACME_DIRECTORY_RE.test(v),
    "must be \"production\", \"staging\" or the https:// URL of an ACME directory").default("production"),
  /**
   * A PEM CA bundle on this machine that signs a private ACME server's HTTPS certificate;
   * copied to the load balancer for certbot. @default the system's CAs
   */
  caFile: z.string().min(1).optional(),
  /** Days before expiry at which a certificate counts as due for renewal. @default 30 */
  renewBeforeDays: z.number().int().min(1).max(89).default(30),
});

export const loadBalancerSchema = z.strictObject({
  /** nginx server_name: host names (or addresses) separated by spaces. @default "_" (any name) */
  serverName: z.string().max(4096).refine((v) => v.split(" ").every((n) => SERVER_NAME.test(n)),
    "must be host names separated by single spaces (e.g. \"shop.example www.shop.example\"), or _").default("_"),
  /**
   * TLS: "none" (HTTP only), "selfSigned" (dev), "provided" with certificate paths on the
   * host, or "acme" (certificates from Let's Encrypt or another ACME server; see acme). @default "none"
   */
  tls: z.enum(["none", "selfSigned", "provided", "acme"]).default("none"),
  /** With tls "provided": certificate chain path on the load balancer host. */
  certificatePath: absolutePath.optional(),
  /** With tls "provided": private key path on the load balancer host. */
  keyPath: absolutePath.optional(),
  /** With tls "acme": the ACME account and server. @default none (tls "acme" needs at least its email) */
  acme: acmeSchema.optional(),
});

export const loggingSchema = z.strictObject({
  /** Days of logs the logging server keeps. @default 14 */
  retentionDays: z.number().int().min(1).max(3650).default(14),
  /** TCP port the logging server receives on. @default 10514 */
  port: port.default(10514),
});

/** An S3 bucket name (the DNS-compatible rules every S3 service accepts). */
const BUCKET_RE = /^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** An S3-compatible object store: where backups (and shared media) go. */
export const objectStoreSchema = z.strictObject({
  /** HTTPS endpoint, e.g. `https://s3.eu-central-1.amazonaws.com` or `https://minio.internal:9000`. */
  endpoint: z.string().regex(/^https:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?\/?$/, "must be an https:// URL of a host (and port), with no path: pgBackRest talks TLS only"),
  /** Bucket; it must exist. */
  bucket: z.string().regex(BUCKET_RE, "must be an S3 bucket name (3-63 lower-case letters, digits, dots and dashes)"),
  /** Region the bucket is in (any value for most self-hosted servers). @default "us-east-1" */
  region: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be a region name like eu-central-1").default("us-east-1"),
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO, Garage and versitygw need. @default false (virtual-hosted, as AWS) */
  pathStyle: z.boolean().default(false),
  /** Key prefix inside the bucket, so several stacks can share one bucket. @default "django-fleet/<stack>" */
  prefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/, "must be slash-separated segments of letters, digits, . _ and -").optional(),
  /** Access key id; keep it secret config (`config set --secret --path`). */
  accessKeyId: z.string().regex(/^[\x21-\x7e]{1,256}$/, "must be printable ASCII without spaces"),
  /** Secret access key; must be secret config. */
  secretAccessKey: z.string().regex(/^[\x21-\x7e]{1,256}$/, "must be printable ASCII without spaces"),
  /** A PEM CA bundle on this machine for a server with a private CA; copied to the hosts. @default the system's CAs */
  caFile: z.string().min(1).optional(),
});

/** A systemd OnCalendar expression: conservative characters, never read as an option. */
const CALENDAR_CHARS = /^[A-Za-z0-9*][A-Za-z0-9*,:/.~ -]*$/;
const onCalendar = z.string().max(200).regex(CALENDAR_CHARS, "must be a systemd OnCalendar expression, e.g. \"*-*-* 03:00:00\" or daily")
  .superRefine((v, ctx) => {
    // Text the pattern already refused gets that one message, not two.
    if (!CALENDAR_CHARS.test(v)) return;
    const problem = calendarProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: `is not a systemd calendar expression (${problem}); e.g. "*-*-* 03:00:00" or daily` });
  });

export const backupSchema = z.strictObject({
  /** Where backups go. No target, no backups (a warning says so on a stack with protectData). @default none */
  target: objectStoreSchema.optional(),
  /** When the scheduled backup runs (systemd OnCalendar, host time, UTC on our hosts). @default "*-*-* 03:00:00" */
  schedule: onCalendar.default("*-*-* 03:00:00"),
  /** How many backups are kept: the newest of each of the last N days, weeks and months. */
  retention: z.strictObject({
    /** @default 7 */ daily: z.number().int().min(0).max(1000).default(7),
    /** @default 4 */ weekly: z.number().int().min(0).max(1000).default(4),
    /** @default 6 */ monthly: z.number().int().min(0).max(1000).default(6),
  }).prefault({}).refine((r) => r.daily + r.weekly + r.monthly > 0, "keeps nothing: set daily, weekly or monthly above 0"),
  /** When the restore drill proves the latest backup restores (PostgreSQL). @default "Sun *-*-* 04:30:00" */
  drillSchedule: onCalendar.default("Sun *-*-* 04:30:00"),
});

export const mediaSchema = z.strictObject({
  /** Where uploads live: `local` (MEDIA_ROOT on the host; one app host only) or `s3` (shared by every app host). @default "local" */
  storage: z.enum(["local", "s3"]).default("local"),
  /** The object store for `s3`, with its own bucket and keys (every app host holds them). @default none: required with `s3` unless shareBackupTarget */
  target: objectStoreSchema.optional(),
  /**
   * Uploads go to backup.target, with its keys: the app (and anyone who runs code as it) then
   * holds keys that can delete the database backups. Set it only knowing that. @default false
   */
  shareBackupTarget: z.boolean().default(false),
  /** Key prefix of uploads in the bucket (django-storages' location). @default "media" */
  location: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/, "must be slash-separated segments of letters, digits, . _ and -").default("media"),
  /** A domain (CDN) that serves the bucket; media URLs use it. @default none (URLs signed by the app) */
  customDomain: z.string().regex(HOST_RE, "must be a host name").optional(),
});

export const stackSchema = z.strictObject({
  /** A JSON inventory ({privateKeyPath, hosts: [{name, address, hostKey, user}]}) that fills in host addresses and keys. @default none */
  inventoryFile: z.string().min(1).optional(),
  /** Path of the SSH private key on the machine running Pulumi. @default the inventory's privateKeyPath */
  sshPrivateKeyPath: z.string().min(1).optional(),
  /** The servers and their roles. */
  hosts: z.array(hostSchema).min(1, "needs at least one host"),
  /** The Django app (shorthand for `apps` with one entry). */
  app: appSchema.optional(),
  /** Several Django apps on the same servers, each with its own user, database, broker account, units and virtual host. */
  apps: z.array(appSchema).min(1, "needs at least one app").optional(),
  /** The app's database. */
  database: databaseSchema.prefault({}),
  /** The Celery broker. */
  broker: brokerSchema.prefault({}),
  /** The Celery workers. */
  celery: celerySchema.prefault({}),
  /** The shared cache (on the host with the "cache" role). */
  cache: cacheSchema.prefault({}),
  /** The nginx load balancer. */
  loadBalancer: loadBalancerSchema.prefault({}),
  /** Central logging. */
  logging: loggingSchema.prefault({}),
  /** Backups of the database (and local media) to an S3-compatible object store. */
  backup: backupSchema.prefault({}),
  /** Where user uploads are stored. */
  media: mediaSchema.prefault({}),
  /** How new releases roll out: batches, drain time, Celery's warm shutdown. */
  deploy: deploySchema.prefault({}),
  /** Protect the database resources against `pulumi destroy` (prod). @default false */
  protectData: z.boolean().default(false),
}).superRefine((c, ctx) => {
  if (!c.app && !c.apps) ctx.addIssue({ code: "custom", path: ["app"], message: "is required (or apps, a list of apps)" });
  if (c.app && c.apps) ctx.addIssue({ code: "custom", path: ["app"], message: "and apps are both set; app is shorthand for apps with one entry. Fix: move it into apps (`npm run pulumi -- config rm app` after copying it as apps[0])" });
});

export type StackConfig = z.infer<typeof stackSchema>;
export type HostConfig = z.infer<typeof hostSchema>;
export type AppConfig = z.infer<typeof appSchema>;
export type ObjectStoreConfig = z.infer<typeof objectStoreSchema>;
export type AcmeConfig = z.infer<typeof acmeSchema>;
