/** The `app` section (and each entry of `apps`): one Django app, its code, settings and environment. */
import { z } from "zod";
import { SYSTEM_NAMES } from "../reservedNames.ts";
import { absolutePath, databaseUser, ident, name, port, SERVER_NAME } from "./primitives.ts";
import { gunicornSchema, healthCheckSchema } from "./release.ts";

/** A dotted Python module path. */
const MODULE = "[A-Za-z_]\\w*(?:\\.[A-Za-z_]\\w*)*";

/** System accounts an app must never run as (its name is the app's user). */
export const RESERVED_USERS = new Set([
  "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data", "backup",
  "list", "irc", "gnats", "nobody", "nogroup", "systemd-network", "systemd-resolve", "systemd-timesync", "messagebus",
  "sshd", "postgres", "mysql", "redis", "rabbitmq", "memcache", "nginx", "syslog", "admin", "sudo", "adm", "staff", "users",
  "polkitd", "tss", "uuidd", "_apt", "debian",
]);

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
    .refine((r) => !repoCredentials(r), "holds credentials (user:token@), which would show in process lists, state and previews on this machine and every host. Fix: give the URL without them and the token as secret config: `npm run pulumi -- config set --secret --path '<app>.repoToken' <token>` (and `<app>.repoUser` if the server wants a user name)"),
  /**
   * Token for an `https://` (or `http://`) repository that needs one (a GitHub or GitLab
   * deploy or access token). Secret config only (`config set --secret --path app.repoToken`);
   * git gets it from a credential helper that reads a 0600 file of the app's user
   * (/etc/<app>/git-credential) on hosts, and from its environment on this machine: never
   * in argv, state in plain, or previews. @default none (the repository is readable without)
   */
  repoToken: z.string().min(1, "must not be empty").refine((t) => !/[\s\0]/.test(t), "holds a space, line break or NUL, which no token holds").optional(),
  /** User name git sends with `repoToken` (GitLab deploy tokens want theirs; GitHub takes any). @default "x-access-token" */
  repoUser: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/, "must be a user name of letters, digits and . _ @ + -").default("x-access-token"),
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
    /** Redis database number of its Celery queue in its own Redis (broker.kind redis; a Redis cache on the same host uses 1). @default 0 */
    redisDb: z.number().int().min(0).max(15).optional(),
  }).optional(),
  /** Port of the app's own Redis server (broker.kind or cache.kind redis). @default 6379 for `app`; 6380-6999 from the name for each app in `apps` */
  redisPort: z.number().int().min(1024).max(65535).optional(),
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
  // A token is an HTTP credential: ssh://, git:// and paths have no use for it.
  if (app.repoToken !== undefined && !/^https?:\/\//.test(app.repo)) {
    ctx.addIssue({ code: "custom", path: ["repoToken"], message: "is given to git as an HTTP credential, but repo is not an https:// (or http://) URL. Fix: give repo as https://..., or `npm run pulumi -- config rm --path '<app>.repoToken'`" });
  }
  // Credentials are written after app.env and would silently win over it.
  const n = app.envNames;
  for (const [key, v] of [["secretKey", n.secretKey], ["databaseUrl", n.databaseUrl], ["brokerUrl", n.brokerUrl], ["cacheUrl", n.cacheUrl], ["mediaAccessKeyId", n.mediaAccessKeyId], ["mediaSecretAccessKey", n.mediaSecretAccessKey], ["settingsModule", "DJANGO_SETTINGS_MODULE"]] as const) {
    if (v in app.env) ctx.addIssue({ code: "custom", path: ["env", v], message: `is set by django-fleet (${key === "settingsModule" ? "from app.settingsModule" : `envNames.${key}`}), so this value would be ignored; remove it, or rename envNames.${key}` });
  }
});

export type AppConfig = z.infer<typeof appSchema>;
