/**
 * The whole program (index.ts) under Pulumi mocks: which resources a config registers,
 * with which inputs and options. Nothing runs on a server: the mocks answer every
 * registration with its inputs as state.
 *
 * index.ts is loaded with Node's own loader (native-import.cjs), not vitest's: Pulumi
 * serializes each dynamic provider's code, and cannot serialize vite's import shim. A
 * query string per case makes Node run the program afresh.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGolden } from "../helpers/golden.ts";
import { T } from "../helpers/resourceTypes.ts";
import { outOfOrder, urnOf } from "../helpers/programOrder.ts";
import { WARM_UP_TOKEN } from "../../lib/startup.ts";

const nativeImport = createRequire(import.meta.url)("./native-import.cjs") as (url: string) => Promise<Record<string, unknown>>;

const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n";
const ALL_ROLES = ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"];

/** One registered resource: what the mocks saw, plus the options the monitor saw. */
interface Registered {
  readonly type: string;
  readonly name: string;
  /** Inputs as the mocks receive them; secrets are `{[SECRET_KEY]: SECRET_SIG, value}`. */
  readonly inputs: Record<string, unknown>;
  options?: { retainOnDelete?: boolean; protect?: boolean; additionalSecretOutputs: string[]; parent: string; dependencies: string[]; aliases: Alias[] };
}

/** An alias as the monitor receives it: a spec (name, parent) or a whole URN. */
type Alias = { name: string; type: string; parentUrn: string; noParent: boolean } | { urn: string };

function isSecret(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_KEY] === SECRET_SIG;
}

/** The plain value, secrets unwrapped at any depth. */
function plain(v: unknown): unknown {
  if (isSecret(v)) return plain((v as { value: unknown }).value);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function text(v: unknown): string {
  const s = plain(v);
  if (typeof s !== "string") throw new Error(`expected a string, got ${JSON.stringify(s)}`);
  return s;
}

/** Resolves any output (plain value, Output, secret Output) to its value. */
function valueOf<T>(x: unknown): Promise<T> {
  return new Promise((resolve) => { pulumi.output(x as pulumi.Input<T>).apply((v) => { resolve(v as T); return v; }); });
}

interface Run {
  readonly resources: Registered[];
  /** The tokens of the invokes the program made. */
  readonly calls: readonly string[];
  readonly module?: Record<string, unknown>;
  readonly error?: unknown;
  one(type: string, name: string): Registered;
  all(type: string): Registered[];
}


const PROBED_SETTINGS = {
  staticRoot: "/srv/fleetdemo/source/staticfiles", staticUrl: "/static/",
  mediaRoot: "/srv/fleetdemo/source/media", mediaUrl: "/media/", staticfiles: true,
};
/** The blog sample's settings (examples/blog): other folders and URLs. */
const BLOG_SETTINGS = {
  staticRoot: "/srv/blog/source/collected", staticUrl: "/assets/",
  mediaRoot: "/srv/blog/source/uploads", mediaUrl: "/uploads/", staticfiles: true,
};
/**
 * What a settings probe reads: the blog's on a `<host>-blog-settings` probe, else
 * fleetdemo's; folders under BASE_DIR are inside the release the probe runs in.
 */
const probedSettings = (name: string, probe: unknown) => {
  const s = name.endsWith("-blog-settings") ? BLOG_SETTINGS : PROBED_SETTINGS;
  const dir = /WorkingDirectory=(\S+)/.exec(String(probe))?.[1];
  const inRelease = (v: string) => dir ? v.replace(/^\/srv\/[a-z]+\/source/, dir) : v;
  return { ...s, staticRoot: inRelease(s.staticRoot), mediaRoot: inRelease(s.mediaRoot) };
};

/** What the logs TLS probes print: a request from each host, certificates from the logging host. */
const probedPem = (name: string): string | undefined => {
  const pem = (kind: string) => `-----BEGIN ${kind}-----\n${Buffer.from(name).toString("base64")}\n-----END ${kind}-----\n`;
  if (/^logging-csr-/.test(name)) return pem("CERTIFICATE REQUEST");
  if (/^logging-(ca|server-cert|issue-.+)$/.test(name)) return pem("CERTIFICATE");
  return undefined;
};

let runs = 0;

/** Sets the config, runs index.ts under mocks and waits until registrations stop. */
/** An object store as a user would name it (two app hosts need shared media). */
const S3_TARGET = { endpoint: "https://s3.example.net", bucket: "fleet-media", accessKeyId: "AKIDEXAMPLE", secretAccessKey: "s3-secret-example" };

/** The program with object-store keys set in plain text (not with --secret). */
const runProgramPlain = (config: Record<string, unknown>) => runProgram(config, { plainKeys: true });

async function runProgram(config: Record<string, unknown>, opts: { plainKeys?: boolean } = {}): Promise<Run> {
  const resources: Registered[] = [];
  const calls: string[] = [];
  await pulumi.runtime.setMocks({
    newResource(args) {
      resources.push({ type: args.type, name: args.name, inputs: args.inputs });
      // What RandomSecret's provider would do on create; every other resource echoes its inputs.
      // RemoteProbe's would read the project's settings: here, a project that hard-codes its folders.
      // RemoteFile's adds the stamp of its write.
      const state = args.type === T.secret ? { ...args.inputs, value: `${args.name}-value` }
        : args.type === T.probe ? { ...args.inputs, value: probedPem(args.name) ?? probedSettings(args.name, args.inputs.probe) }
        : args.type === T.file ? { ...args.inputs, written: `${args.name} written` } : args.inputs;
      return { id: `${args.name}_id`, state };
    },
    call(args) {
      calls.push(args.token);
      return args.inputs;
    },
  }, "django-fleet", "test");

  // The mocks see no resource options; the monitor's request carries them.
  interface AliasSpec { getName(): string; getType(): string; getParenturn(): string; getNoparent(): boolean }
  interface Req {
    getType(): string; getName(): string; getRetainondelete(): boolean | undefined; getProtect(): boolean | undefined;
    getAdditionalsecretoutputsList(): string[]; getParent(): string; getDependenciesList(): string[];
    getAliasesList(): Array<{ hasSpec(): boolean; getSpec(): AliasSpec; getUrn(): string }>;
  }
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Req, cb: unknown): unknown };
  const register = monitor.registerResource.bind(monitor);
  const options = new Map<string, Registered["options"]>();
  monitor.registerResource = (req, cb) => {
    options.set(`${req.getType()} ${req.getName()}`, {
      retainOnDelete: req.getRetainondelete(), protect: req.getProtect(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(), parent: req.getParent(), dependencies: req.getDependenciesList(),
      aliases: req.getAliasesList().map((a): Alias => {
        if (!a.hasSpec()) return { urn: a.getUrn() };
        const spec = a.getSpec();
        return { name: spec.getName(), type: spec.getType(), parentUrn: spec.getParenturn(), noParent: spec.getNoparent() };
      }),
    });
    return register(req, cb);
  };

  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) =>
    [`django-fleet:${k}`, typeof v === "string" ? v : JSON.stringify(v)])),
  // Object-store keys are set with --secret (config refuses them in plain text).
  opts.plainKeys ? [] : Object.keys(config).filter((k) => k === "backup" || k === "media").map((k) => `django-fleet:${k}`));

  let module: Record<string, unknown> | undefined;
  let error: unknown;
  try {
    module = await nativeImport(new URL(`../../index.ts?run=${++runs}`, import.meta.url).href);
  } catch (e) {
    error = e;
  }
  if (module) await Promise.all(Object.values(module).map((x) => valueOf(x)));
  // Registrations finish asynchronously: wait until none has arrived for a while.
  let last = -1;
  while (last !== resources.length) {
    last = resources.length;
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const r of resources) r.options = options.get(`${r.type} ${r.name}`);
  const one = (type: string, name: string) => {
    const hits = resources.filter((r) => r.type === type && r.name === name);
    if (hits.length !== 1) throw new Error(`expected one ${type} ${name}, found ${hits.length}`);
    return hits[0]!;
  };
  return { resources, calls, module, error, one, all: (type) => resources.filter((r) => r.type === type) };
}

let dir: string;
let repo: string;
let commit: string;
let keyPath: string;
let inventoryPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "fleet-program-"));
  repo = join(dir, "app.git");
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], {
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" },
  }).trim();
  execFileSync("git", ["init", "-q", "-b", "main", repo]);
  writeFileSync(join(repo, "requirements.txt"), "Django==5.2.8\n");
  git("add", "requirements.txt");
  git("commit", "-q", "-m", "first");
  commit = git("rev-parse", "HEAD");
  keyPath = join(dir, "id_ed25519");
  writeFileSync(keyPath, PRIVATE_KEY, { mode: 0o600 });
  inventoryPath = join(dir, "hosts.json");
  writeFileSync(inventoryPath, JSON.stringify({
    privateKeyPath: keyPath,
    hosts: [{ name: "fleet-dev", address: "198.18.0.10", user: "root", hostKey: HOST_KEY }],
  }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function app(over: Record<string, unknown> = {}) {
  return {
    name: "fleetdemo", repo, ref: "main", settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application",
    celeryApp: "fleetdemo", gunicorn: { workers: 2 }, ...over,
  };
}

/** Pulumi.dev.yaml, pointed at the temporary inventory and repository. */
function devConfig(): Record<string, unknown> {
  return {
    inventoryFile: inventoryPath,
    hosts: [{ name: "fleet-dev", roles: ALL_ROLES, os: "debian12" }],
    app: app(),
    broker: { kind: "rabbitmq" },
    loadBalancer: { tls: "none" },
  };
}

describe("dev stack: one host with every role", () => {
  let run: Run;
  beforeAll(async () => { run = await runProgram(devConfig()); });

  it("loads without error", () => {
    expect(run.error).toBeUndefined();
  });

  it("every service names the config files it loads and what loads them (issue 20)", () => {
    const loads = Object.fromEntries(run.all(T.service).map((r) => [plain(r.inputs.unit),
      (plain(r.inputs.loads) as Array<{ path: string; then: string; check?: string }>).map((l) => `${l.then} ${l.path}${l.check ? " (checked)" : ""}`)]));
    expect(loads).toEqual({
      "django-fleet-firewall.service": ["restart /etc/systemd/system/django-fleet-firewall.service", "reload /etc/django-fleet/firewall.nft (checked)"],
      "rabbitmq-server.service": ["restart /etc/rabbitmq/rabbitmq.conf"],
      "rsyslog.service": [
        "restart /etc/rsyslog.d/90-django-fleet-forward.conf", "restart /etc/fleet-log-tls/ca.crt", "restart /etc/fleet-log-tls/host.crt",
        "restart /etc/rsyslog.d/10-django-fleet-server.conf",
      ],
      "postgresql@15-main.service": ["restart /etc/postgresql/15/main/conf.d/django-fleet.conf", "reload /etc/postgresql/15/main/pg_hba.conf"],
      // Its unit file restarts it through the gated switch, never here (see the switch's restartOn).
      "fleetdemo-gunicorn.service": ["reload /etc/fleetdemo/gunicorn.conf.py"],
      "fleetdemo-celery-worker.service": ["restart /etc/systemd/system/fleetdemo-celery-worker.service", "restart /etc/fleetdemo/env"],
      "fleetdemo-celery-beat.service": ["restart /etc/systemd/system/fleetdemo-celery-beat.service", "restart /etc/fleetdemo/env"],
      "nginx.service": ["reload /etc/nginx/sites-enabled/fleetdemo.conf", "reload /etc/nginx/sites-available/default"],
    });
  });

  it("asks the engine once to start the dynamic-provider plugin early (lib/startup.ts)", () => {
    expect(run.calls).toEqual([WARM_UP_TOKEN]);
  });

  it("registers exactly these resources", () => {
    const d = "pulumi-nodejs:dynamic/fleet";
    expect(run.resources.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      "django-fleet:fleet:AppNode fleet-dev-fleetdemo",
      "django-fleet:fleet:AppRelease fleet-dev-fleetdemo",
      "django-fleet:fleet:Broker broker",
      "django-fleet:fleet:CeleryWorker fleet-dev-fleetdemo-celery",
      "django-fleet:fleet:DbServer db",
      "django-fleet:fleet:DjangoApp fleetdemo",
      "django-fleet:fleet:Firewall fleet-dev-firewall",
      "django-fleet:fleet:Host fleet-dev",
      "django-fleet:fleet:LoadBalancer lb",
      "django-fleet:fleet:LoggingServer logging",
      `${d}:PostgresDatabase db-database-fleetdemo`,
      `${d}:RandomSecret fleetdemo-broker-password`,
      `${d}:RandomSecret fleetdemo-db-password`,
      `${d}:RandomSecret fleetdemo-django-secret-key`,
      `${d}:ReleaseSwitch fleet-dev-fleetdemo-release`,
      `${d}:RemoteFile broker-conf`,
      `${d}:RemoteFile db-conf`,
      `${d}:RemoteFile db-hba`,
      `${d}:RemoteFile fleet-dev-firewall-rules`,
      `${d}:RemoteFile fleet-dev-firewall-unit`,
      `${d}:RemoteFile fleet-dev-fleetdemo-celery-beat-unit`,
      `${d}:RemoteFile fleet-dev-fleetdemo-celery-worker-unit`,
      `${d}:RemoteFile fleet-dev-fleetdemo-env`,
      `${d}:RemoteFile fleet-dev-fleetdemo-gunicorn-conf`,
      `${d}:RemoteFile fleet-dev-fleetdemo-gunicorn-socket-unit`,
      `${d}:RemoteFile fleet-dev-fleetdemo-gunicorn-unit`,
      `${d}:RemoteFile fleetdemo-app-record`,
      `${d}:RemoteFile lb-default-site`,
      `${d}:RemoteFile lb-site-fleetdemo`,
      `${d}:RemoteFile logging-ca-fleet-dev`,
      `${d}:RemoteFile logging-cert-fleet-dev`,
      `${d}:RemoteFile logging-retention`,
      `${d}:RemoteFile logging-server-conf`,
      `${d}:RemoteFile logging-ship-fleet-dev`,
      `${d}:RemoteProbe fleet-dev-fleetdemo-settings`,
      `${d}:RemoteProbe logging-ca`,
      `${d}:RemoteProbe logging-csr-fleet-dev`,
      `${d}:RemoteProbe logging-issue-fleet-dev`,
      `${d}:RemoteProbe logging-server-cert`,
      `${d}:RemoteScript broker-account-fleetdemo`,
      `${d}:RemoteScript fleet-dev-fleetdemo-build`,
      `${d}:RemoteScript fleet-dev-fleetdemo-collectstatic`,
      `${d}:RemoteScript fleet-dev-fleetdemo-gunicorn-socket`,
      `${d}:RemoteScript fleet-dev-fleetdemo-layout`,
      `${d}:RemoteScript fleet-dev-fleetdemo-shared`,
      `${d}:RemoteScript fleet-dev-nftables`,
      `${d}:RemoteScript fleet-dev-packages`,
      `${d}:RemoteScript fleetdemo-migrate`,
      `${d}:RemoteScript lb-unload-fleetdemo`,
      `${d}:RemoteScript logging-check-fleet-dev`,
      `${d}:SystemdService broker-service`,
      `${d}:SystemdService db-service`,
      `${d}:SystemdService fleet-dev-firewall-service`,
      `${d}:SystemdService fleet-dev-fleetdemo-celery-beat`,
      `${d}:SystemdService fleet-dev-fleetdemo-celery-worker`,
      `${d}:SystemdService fleet-dev-fleetdemo-gunicorn`,
      `${d}:SystemdService lb-nginx`,
      `${d}:SystemdService logging-rsyslog-fleet-dev`,
    ]);
  });

  it("every remote resource gets the same secret connection, from the inventory and the key file", () => {
    const remote = run.resources.filter((r) => r.type.startsWith("pulumi-nodejs:") && r.type !== T.secret);
    expect(remote).toHaveLength(45);
    for (const r of remote) {
      expect(isSecret(r.inputs.connection)).toBe(true);
      expect(plain(r.inputs.connection)).toEqual({ host: "198.18.0.10", port: 22, user: "root", hostKey: HOST_KEY, privateKey: PRIVATE_KEY });
      expect(r.options?.additionalSecretOutputs).toContain("connection");
    }
  });

  it("the env file is mode 0600, secret, and holds the app's settings", () => {
    const env = run.one(T.file, "fleet-dev-fleetdemo-env");
    expect(env.inputs.path).toBe("/etc/fleetdemo/env");
    expect(env.inputs.mode).toBe("0600");
    expect([env.inputs.owner, env.inputs.group]).toEqual(["root", "root"]);
    expect(isSecret(env.inputs.content)).toBe(true);
    expect(env.options?.additionalSecretOutputs.sort()).toEqual(["connection", "content"]);
    expect(text(env.inputs.content)).toBe([
      "# Managed by django-fleet (pulumi). Manual edits are reverted on the next `pulumi up`.",
      'CELERY_BROKER_URL="amqp://fleetdemo:fleetdemo-broker-password-value@127.0.0.1:5672/fleetdemo"',
      'DATABASE_URL="postgres://fleetdemo:fleetdemo-db-password-value@127.0.0.1:5432/fleetdemo"',
      'DJANGO_ALLOWED_HOSTS="198.18.0.10,localhost,127.0.0.1"',
      'DJANGO_MEDIA_ROOT="/srv/fleetdemo/public/media"',
      'DJANGO_SECRET_KEY="fleetdemo-django-secret-key-value"',
      'DJANGO_SETTINGS_MODULE="fleetdemo.settings"',
      'DJANGO_STATIC_ROOT="/srv/fleetdemo/public/static"',
    ].join("\n") + "\n");
  });

  it("no other RemoteFile is secret", () => {
    const secretFiles = run.all(T.file).filter((r) => isSecret(r.inputs.content)).map((r) => r.name);
    expect(secretFiles).toEqual(["fleet-dev-fleetdemo-env"]);
  });

  it("gunicorn gets workers = 2 from config and binds to loopback behind the local nginx", () => {
    const conf = run.one(T.file, "fleet-dev-fleetdemo-gunicorn-conf");
    expect(conf.inputs.path).toBe("/etc/fleetdemo/gunicorn.conf.py");
    const lines = text(conf.inputs.content).split("\n");
    expect(lines).toContain("workers = 2");
    expect(lines).toContain('bind = "127.0.0.1:8000"');
  });

  it("services that listen are proven ready by their port; the others by systemd's own readiness", () => {
    expect(plain(run.one(T.service, "db-service").inputs.readyCheck)).toEqual({ port: 5432 });
    for (const name of ["broker-service", "fleet-dev-firewall-service", "logging-rsyslog-fleet-dev", "fleet-dev-fleetdemo-celery-worker"]) {
      expect(plain(run.one(T.service, name).inputs.readyCheck)).toBeUndefined();
    }
  });

  it("nginx serves static and media from the folders the project's settings name", () => {
    const site = text(run.one(T.file, "lb-site-fleetdemo").inputs.content);
    expect(site).toContain("    location /static/ {\n        alias /srv/fleetdemo/shared/staticfiles/;");
    expect(site).toContain("    location /media/ {\n        alias /srv/fleetdemo/shared/media/;");
    const probe = run.one(T.probe, "fleet-dev-fleetdemo-settings");
    expect(text(probe.inputs.probe)).toContain("systemd-run --quiet --wait --pipe --collect -p User=fleetdemo");
    expect(plain(probe.inputs.triggers)).toMatchObject({ commit });
    const collect = run.one(T.script, "fleet-dev-fleetdemo-collectstatic");
    expect(text(collect.inputs.check)).toContain("ls -A -- /srv/fleetdemo/shared/staticfiles");
    // Folders inside the checkout are linked to ones every release shares.
    const links = text(run.one(T.script, "fleet-dev-fleetdemo-shared").inputs.create);
    expect(links).toContain(`ln -s -- /srv/fleetdemo/shared/staticfiles /srv/fleetdemo/releases/${commit.slice(0, 12)}/source/staticfiles`);
    expect(links).toContain(`ln -s -- /srv/fleetdemo/shared/media /srv/fleetdemo/releases/${commit.slice(0, 12)}/source/media`);
  });

  it("the packages step is guarded by the host's release, which is a trigger shown in previews", () => {
    const pkgs = run.one(T.script, "fleet-dev-packages");
    expect(plain(pkgs.inputs.triggers)).toMatchObject({ release: "Debian 12 (bookworm)" });
    expect(text(pkgs.inputs.create)).toMatch(/^\. \/etc\/os-release\nif \[ "\$\{ID:-\}" != debian \] \|\| \[ "\$\{VERSION_ID:-\}" != 12 \]; then/);
  });

  it("the build makes the release's virtualenv with pip for a repository with only requirements.txt", () => {
    const build = run.one(T.script, "fleet-dev-fleetdemo-build");
    expect(text(build.inputs.create)).toContain(`/srv/fleetdemo/releases/${commit.slice(0, 12)}/venv/bin/pip install --quiet --progress-bar off -r requirements.txt`);
    expect(plain(build.inputs.triggers)).toEqual({ release: commit.slice(0, 12), method: "pip", requirements: "requirements.txt" });
  });

  it("the nginx upstream is 127.0.0.1:8000 on a single host", () => {
    const site = text(run.one(T.file, "lb-site-fleetdemo").inputs.content);
    expect(run.one(T.file, "lb-site-fleetdemo").inputs.path).toBe("/etc/nginx/sites-enabled/fleetdemo.conf");
    expect(site).toContain([
      "upstream fleetdemo_app {",
      "    server 127.0.0.1:8000 max_fails=3 fail_timeout=10s;",
      "    keepalive 16;",
      "}",
    ].join("\n"));
    expect(site.split("\n").filter((l) => l.startsWith("    server "))).toEqual(["    server 127.0.0.1:8000 max_fails=3 fail_timeout=10s;"]);
  });

  it("the database resource is retained on delete, not protected in dev, and has its names", () => {
    const database = run.one(T.database, "db-database-fleetdemo");
    expect(plain(database.inputs.database)).toBe("fleetdemo");
    expect(plain(database.inputs.owner)).toBe("fleetdemo");
    expect(plain(database.inputs.isolated)).toBe(true);
    expect(isSecret(database.inputs.password)).toBe(true);
    expect(plain(database.inputs.password)).toBe("fleetdemo-db-password-value");
    expect(database.options?.retainOnDelete).toBe(true);
    expect(database.options?.protect).toBe(false);
    expect(database.options?.parent).toMatch(/::django-fleet:fleet:DbServer::db$/);
  });

  it("destroy leaves the firewall loaded: its rules, unit file and service are retained on delete", () => {
    for (const [type, name] of [[T.file, "fleet-dev-firewall-rules"], [T.file, "fleet-dev-firewall-unit"], [T.service, "fleet-dev-firewall-service"]] as const) {
      expect(run.one(type, name).options?.retainOnDelete, name).toBe(true);
    }
  });

  it("migrate runs on the app host after the database exists and the release is ready", () => {
    const migrate = run.one(T.script, "fleetdemo-migrate");
    expect(plain(migrate.inputs.triggers)).toMatchObject({ commit });
    const deps = migrate.options?.dependencies ?? [];
    expect(deps.some((u) => u.endsWith("::db-database-fleetdemo"))).toBe(true);
    expect(deps.some((u) => u.endsWith("::fleet-dev-fleetdemo-env"))).toBe(true);
    expect(deps.some((u) => u.endsWith("::fleet-dev-fleetdemo-collectstatic"))).toBe(true);
  });

  it("the release is a checkout of the resolved commit of app.ref, in its own folder", () => {
    const build = run.one(T.script, "fleet-dev-fleetdemo-build");
    expect(text(build.inputs.create)).toContain(`git checkout --quiet --force --detach ${commit}`);
    expect(text(build.inputs.create)).toContain(`cd /srv/fleetdemo/releases/${commit.slice(0, 12)}/source`);
    expect(text(build.inputs.create)).toContain(`git -C /srv/fleetdemo/repo.git fetch --quiet --tags --force -- ${repo}`);
  });

  it("the rabbitmq account gets its password as a secret variable, never in the script", () => {
    const account = run.one(T.script, "broker-account-fleetdemo");
    expect(isSecret(account.inputs.secrets)).toBe(true);
    expect(plain(account.inputs.secrets)).toEqual({ BROKER_PASSWORD: "fleetdemo-broker-password-value" });
    expect(text(account.inputs.create)).not.toContain("broker-password-value");
  });

  it("postgres listens on localhost only and pg_hba has no remote rules when every client is local", () => {
    expect(text(run.one(T.file, "db-conf").inputs.content).split("\n")).toContain("listen_addresses = 'localhost'");
    const hba = text(run.one(T.file, "db-hba").inputs.content);
    expect(hba.split("\n").filter((l) => l.startsWith("host "))).toEqual([
      "host    all             all             127.0.0.1/32            scram-sha-256",
      "host    all             all             ::1/128                 scram-sha-256",
    ]);
  });

  it("rabbitmq listens on loopback only when every client is local", () => {
    expect(text(run.one(T.file, "broker-conf").inputs.content)).toBe("# Managed by django-fleet (pulumi).\nlisteners.tcp.1 = 127.0.0.1:5672\n");
  });

  it("exactly one beat unit", () => {
    expect(run.all(T.file).filter((r) => r.inputs.path === "/etc/systemd/system/fleetdemo-celery-beat.service")).toHaveLength(1);
  });

  it("exports the stack outputs", async () => {
    const m = run.module!;
    expect(await valueOf(m.siteUrl)).toBe("http://198.18.0.10/");
    expect(await valueOf(m.deployedCommit)).toBe(commit);
    expect(await valueOf(m.appHosts)).toEqual(["198.18.0.10"]);
    expect(await valueOf(m.loggingEndpoint)).toBe("198.18.0.10:10514");
    expect(await valueOf(m.database)).toEqual({ engine: "postgresql", host: "198.18.0.10", port: 5432, name: "fleetdemo", user: "fleetdemo" });
    expect(await valueOf(m.brokerUrl)).toBe("amqp://fleetdemo:fleetdemo-broker-password-value@198.18.0.10:5672/fleetdemo");
    expect(await valueOf(m.databasePassword)).toBe("fleetdemo-db-password-value");
    expect(await pulumi.isSecret(m.brokerUrl as pulumi.Output<string>)).toBe(true);
    expect(await pulumi.isSecret(m.databasePassword as pulumi.Output<string>)).toBe(true);
    expect(await pulumi.isSecret(pulumi.output(m.siteUrl))).toBe(false);
    expect(await valueOf(m.broker)).toEqual({ kind: "rabbitmq", host: "198.18.0.10", port: 5672 });
    expect(await valueOf(m.cache)).toBeNull();
    expect(await valueOf(m.cacheUrl)).toBeNull();
    expect(await valueOf(m.hostAddresses)).toEqual({
      "fleet-dev": { address: "198.18.0.10", privateAddress: "198.18.0.10", roles: ALL_ROLES },
    });
  });
});

/** A Debian 13 host at 203.0.113.n, private address 10.0.0.n. */
const splitHost = (name: string, n: number, roles: string[]) =>
  ({ name, address: `203.0.113.${n}`, privateAddress: `10.0.0.${n}`, hostKey: HOST_KEY, roles, os: "debian13" });

/** Every role on its own host, a Redis broker, media in the object store, data protected. */
function splitConfig(): Record<string, unknown> {
  const h = splitHost;
  return {
    sshPrivateKeyPath: keyPath,
    hosts: [
      h("lb", 10, ["loadBalancer"]),
      h("app1", 11, ["app"]),
      h("app2", 12, ["app"]),
      h("worker", 13, ["worker"]),
      h("beat", 14, ["beat"]),
      h("db", 15, ["db"]),
      h("broker", 16, ["broker"]),
      h("logging", 17, ["logging"]),
    ],
    app: app({ gunicorn: { workers: 4 } }),
    broker: { kind: "redis" },
    media: { storage: "s3", target: S3_TARGET },
    protectData: true,
  };
}

describe("split stack: every role on its own host, redis broker", () => {
  let run: Run;
  const hostOf = (r: Registered) => (plain(r.inputs.connection) as { host: string }).host;

  beforeAll(async () => {
    run = await runProgram(splitConfig());
  });

  it("loads without error", () => {
    expect(run.error).toBeUndefined();
  });

  it("registers one Host per server and the code only where it runs", () => {
    expect(run.all("django-fleet:fleet:Host").map((r) => r.name)).toEqual(["lb", "app1", "app2", "worker", "beat", "db", "broker", "logging"]);
    expect(run.all("django-fleet:fleet:AppRelease").map((r) => r.name).sort())
      .toEqual(["app1-fleetdemo", "app2-fleetdemo", "beat-fleetdemo", "worker-fleetdemo"]);
    expect(run.all("django-fleet:fleet:AppNode").map((r) => r.name)).toEqual(["app1-fleetdemo", "app2-fleetdemo"]);
    expect(run.all("django-fleet:fleet:CeleryWorker").map((r) => r.name)).toEqual(["worker-fleetdemo-celery", "beat-fleetdemo-celery"]);
    expect(run.all(T.service).map((r) => `${hostOf(r)} ${plain(r.inputs.unit)}`).sort()).toEqual([
      "203.0.113.10 django-fleet-firewall.service",
      "203.0.113.10 nginx.service",
      "203.0.113.10 rsyslog.service",
      "203.0.113.11 django-fleet-firewall.service",
      "203.0.113.11 fleetdemo-gunicorn.service",
      "203.0.113.11 rsyslog.service",
      "203.0.113.12 django-fleet-firewall.service",
      "203.0.113.12 fleetdemo-gunicorn.service",
      "203.0.113.12 rsyslog.service",
      "203.0.113.13 django-fleet-firewall.service",
      "203.0.113.13 fleetdemo-celery-worker.service",
      "203.0.113.13 rsyslog.service",
      "203.0.113.14 django-fleet-firewall.service",
      "203.0.113.14 fleetdemo-celery-beat.service",
      "203.0.113.14 rsyslog.service",
      "203.0.113.15 django-fleet-firewall.service",
      "203.0.113.15 postgresql@17-main.service",
      "203.0.113.15 rsyslog.service",
      "203.0.113.16 django-fleet-firewall.service",
      "203.0.113.16 redis-server@fleetdemo.service",
      "203.0.113.16 rsyslog.service",
      "203.0.113.17 django-fleet-firewall.service",
      "203.0.113.17 rsyslog.service",
    ]);
  });

  it("the load balancer holds no app secret, code or build package: only a copy of the static files, from app1", () => {
    const onLb = run.resources.filter((r) => r.inputs.connection !== undefined && hostOf(r) === "203.0.113.10").map((r) => r.name);
    expect(onLb.filter((n) => n.includes("fleetdemo")).sort()).toEqual(["lb-leftovers-fleetdemo", "lb-site-fleetdemo", "lb-unload-fleetdemo"]);
    expect(run.one(T.script, "lb-leftovers-fleetdemo").options?.dependencies?.some((u) => u.endsWith("::lb-nginx"))).toBe(true);
    expect(run.all(T.file).filter((r) => plain(r.inputs.path) === "/etc/fleetdemo/env").map(hostOf).sort()).toEqual(["203.0.113.11", "203.0.113.12", "203.0.113.13", "203.0.113.14"]);
    const copy = run.one("pulumi-nodejs:dynamic/fleet:StaticCopy", "lb-fleetdemo-static");
    expect([(plain(copy.inputs.from) as { host: string }).host, (plain(copy.inputs.to) as { host: string }).host]).toEqual(["203.0.113.11", "203.0.113.10"]);
    expect(plain(copy.inputs.release)).toBe(commit.slice(0, 12));
    const packages = text(run.one(T.script, "lb-packages").inputs.create);
    for (const p of ["git", "python3-venv", "python3-dev", "libpq-dev"]) expect(packages.split(/\s+/)).not.toContain(p);
    expect(text(run.one(T.script, "app1-packages").inputs.create).split(/\s+/)).toContain("python3-venv");
    // nginx serves the copy in root's folder; uploads are in the object store.
    const site = text(run.one(T.file, "lb-site-fleetdemo").inputs.content);
    expect(site).toContain("alias /var/lib/django-fleet/static/fleetdemo/current/;");
    expect(site).toContain("disable_symlinks if_not_owner from=/var/lib/django-fleet/static/fleetdemo;");
    expect(site).not.toContain("/srv/fleetdemo");
  });

  it("uploads on the one app host's disk (media.storage local): the load balancer passes /media/ to the app node", async () => {
    const cfg = splitConfig();
    const one = await runProgram({ ...cfg, hosts: (cfg.hosts as Array<{ name: string }>).filter((h) => h.name !== "app2"), media: { storage: "local" } });
    expect(one.error).toBeUndefined();
    const site = text(one.one(T.file, "lb-site-fleetdemo").inputs.content);
    expect(site).toContain("alias /var/lib/django-fleet/static/fleetdemo/current/;");
    expect(site).not.toContain("location /media/");
    expect(site).toContain("location / {");
  });

  it("the nginx upstream lists both app hosts' private addresses, in order", () => {
    const site = run.one(T.file, "lb-site-fleetdemo");
    expect(hostOf(site)).toBe("203.0.113.10");
    expect(text(site.inputs.content)).toContain([
      "upstream fleetdemo_app {",
      "    server 10.0.0.11:8000 max_fails=3 fail_timeout=10s;",
      "    server 10.0.0.12:8000 max_fails=3 fail_timeout=10s;",
      "    keepalive 16;",
      "}",
    ].join("\n"));
  });

  it("the app's own Redis is proven ready by its port, after Debian's shared server is masked", () => {
    const service = run.one(T.service, "broker-redis-fleetdemo-service");
    expect(plain(service.inputs.readyCheck)).toEqual({ port: 6379 });
    expect(service.options!.dependencies.some((d) => d.endsWith("::broker-redis-default-off"))).toBe(true);
    const off = run.one(T.script, "broker-redis-default-off");
    expect(hostOf(off)).toBe("203.0.113.16");
    expect(text(off.inputs.create)).toContain("systemctl mask --now redis-server.service");
    // Its config binds loopback and the private address (other hosts connect), with no password in it.
    const conf = text(run.one(T.file, "broker-redis-fleetdemo-conf").inputs.content);
    expect(conf).toContain("bind 127.0.0.1 10.0.0.16\n");
    expect(conf).not.toContain("password-value");
  });

  it("gunicorn binds to each app host's private address", () => {
    for (const [name, address] of [["app1", "10.0.0.11"], ["app2", "10.0.0.12"]] as const) {
      const conf = text(run.one(T.file, `${name}-fleetdemo-gunicorn-conf`).inputs.content).split("\n");
      expect(conf).toContain(`bind = "${address}:8000"`);
      expect(conf).toContain("workers = 4");
    }
  });

  it("pg_hba lets in only the app, worker and beat hosts", () => {
    const hba = run.one(T.file, "db-hba");
    expect(hostOf(hba)).toBe("203.0.113.15");
    expect([hba.inputs.owner, hba.inputs.group, hba.inputs.mode]).toEqual(["postgres", "postgres", "0640"]);
    const content = text(hba.inputs.content);
    const rules = content.split("\n").filter((l) => /^host\s+fleetdemo\s/.test(l));
    expect(rules).toEqual([
      "host    fleetdemo       fleetdemo       10.0.0.11/32            scram-sha-256",
      "host    fleetdemo       fleetdemo       10.0.0.12/32            scram-sha-256",
      "host    fleetdemo       fleetdemo       10.0.0.13/32            scram-sha-256",
      "host    fleetdemo       fleetdemo       10.0.0.14/32            scram-sha-256",
    ]);
    for (const other of ["10.0.0.10", "10.0.0.15", "10.0.0.16", "10.0.0.17"]) expect(content).not.toContain(other);
  });

  it("postgres listens on its private address too", () => {
    expect(text(run.one(T.file, "db-conf").inputs.content).split("\n")).toContain("listen_addresses = 'localhost,10.0.0.15'");
  });

  it("exactly one beat unit file, on the beat host; the worker unit only on the worker host", () => {
    const beatUnits = run.all(T.file).filter((r) => r.inputs.path === "/etc/systemd/system/fleetdemo-celery-beat.service");
    expect(beatUnits.map((r) => `${r.name} ${hostOf(r)}`)).toEqual(["beat-fleetdemo-celery-beat-unit 203.0.113.14"]);
    const workerUnits = run.all(T.file).filter((r) => r.inputs.path === "/etc/systemd/system/fleetdemo-celery-worker.service");
    expect(workerUnits.map((r) => `${r.name} ${hostOf(r)}`)).toEqual(["worker-fleetdemo-celery-worker-unit 203.0.113.13"]);
  });

  it("apps reach the database and redis over the private network", () => {
    const env = text(run.one(T.file, "app1-fleetdemo-env").inputs.content).split("\n");
    expect(env).toContain('DATABASE_URL="postgres://fleetdemo:fleetdemo-db-password-value@10.0.0.15:5432/fleetdemo"');
    // With Redis the broker password is the app's own server's.
    expect(env).toContain('CELERY_BROKER_URL="redis://:fleetdemo-redis-password-value@10.0.0.16:6379/0"');
  });

  it("the app's redis password file is secret, root's, readable by the redis group only", () => {
    const f = run.one(T.file, "broker-redis-fleetdemo-secret");
    expect(hostOf(f)).toBe("203.0.113.16");
    expect(isSecret(f.inputs.content)).toBe(true);
    expect(plain(f.inputs.content)).toBe("requirepass fleetdemo-redis-password-value\n");
    expect([f.inputs.mode, f.inputs.owner, f.inputs.group, f.inputs.path]).toEqual(["0640", "root", "redis", "/etc/redis/redis-fleetdemo-secret.conf"]);
    expect(run.all(T.script).filter((r) => r.name.startsWith("broker-account"))).toEqual([]);
    expect(run.all(T.secret).map((r) => r.name).sort()).toEqual(["fleetdemo-db-password", "fleetdemo-django-secret-key", "fleetdemo-redis-password"]);
    // The shared server's password of a stack made before per-app servers is kept, as this app's.
    expect(run.one(T.secret, "fleetdemo-redis-password").options?.aliases).toEqual([{ name: "broker-password", type: "", parentUrn: "", noParent: true }]);
    // The password reaches the check in its secrets, on no command line.
    const auth = run.one(T.script, "broker-redis-fleetdemo-auth");
    expect(text(auth.inputs.check)).not.toContain("password-value");
    expect(text(auth.inputs.check)).toContain("-p 6379");
  });

  it("protectData protects the database resource, which is still retained on delete", () => {
    const database = run.one(T.database, "db-database-fleetdemo");
    expect(database.options).toMatchObject({ protect: true, retainOnDelete: true });
  });

  it("the rollout: app2 switches only after app1 passed its gate, both after the migration, Celery after both, one beat", () => {
    const SW = "pulumi-nodejs:dynamic/fleet:ReleaseSwitch";
    const deps = (r: Registered) => r.options?.dependencies ?? [];
    const on = (r: Registered, name: string) => deps(r).some((u) => u.endsWith(`::${name}`));
    const sw1 = run.one(SW, "app1-fleetdemo-release");
    const sw2 = run.one(SW, "app2-fleetdemo-release");
    expect(run.all(SW).map((r) => r.name)).toEqual(["app1-fleetdemo-release", "app2-fleetdemo-release"]);
    expect(on(sw2, "app1-fleetdemo-release")).toBe(true);
    expect(on(sw1, "app2-fleetdemo-release")).toBe(false);
    // A switch waits for its node's gunicorn, which waits for the migration of the release.
    expect(on(sw1, "app1-fleetdemo-gunicorn")).toBe(true);
    expect(on(run.one(T.service, "app1-fleetdemo-gunicorn"), "fleetdemo-migrate")).toBe(true);
    // Workers and the one beat restart after every app node switched, from their host's `current`.
    for (const [svc, host] of [["worker-fleetdemo-celery-worker", "worker"], ["beat-fleetdemo-celery-beat", "beat"]] as const) {
      const r = run.one(T.service, svc);
      expect([on(r, "app1-fleetdemo-release"), on(r, "app2-fleetdemo-release"), on(r, `${host}-fleetdemo-activate`)]).toEqual([true, true, true]);
      expect(plain(r.inputs.restartOn)).toMatchObject({ commit: commit.slice(0, 12) });
    }
    expect(run.all(T.service).filter((r) => String(plain(r.inputs.unit)).endsWith("-celery-beat.service"))).toHaveLength(1);
    const activate = run.one(T.script, "worker-fleetdemo-activate");
    expect(on(activate, "app1-fleetdemo-release") && on(activate, "app2-fleetdemo-release")).toBe(true);
    expect(text(activate.inputs.create)).toContain(`ln -sfn -- releases/${commit.slice(0, 12)} current.new`);
    // The load balancer's copy of the static files is made before any node switches (the new
    // release's pages find their files), and its site is rewritten after the switches.
    const copy = run.one("pulumi-nodejs:dynamic/fleet:StaticCopy", "lb-fleetdemo-static");
    expect([on(copy, "app1-fleetdemo-collectstatic"), on(copy, "app1-fleetdemo-release")]).toEqual([true, false]);
    expect(on(run.one(T.service, "app1-fleetdemo-gunicorn"), "lb-fleetdemo-static")).toBe(true);
    expect([on(run.one(T.file, "lb-site-fleetdemo"), "app1-fleetdemo-release"), on(run.one(T.file, "lb-site-fleetdemo"), "app2-fleetdemo-release")]).toEqual([true, true]);
  });

  it("each switch drains its node on the load balancer and checks it on its own address; the preview shows the release", () => {
    const sw = run.one("pulumi-nodejs:dynamic/fleet:ReleaseSwitch", "app2-fleetdemo-release");
    expect(plain(sw.inputs.release)).toBe(commit.slice(0, 12));
    expect(plain(sw.inputs.health)).toEqual({ url: "http://10.0.0.12:8000/", hostHeader: "10.0.0.12", timeoutSeconds: 60 });
    expect(isSecret(sw.inputs.drain)).toBe(true);
    const drain = plain(sw.inputs.drain) as { connection: { host: string }; site: string; server: string; seconds: number };
    expect([drain.connection.host, drain.site, drain.server, drain.seconds]).toEqual(["203.0.113.10", "/etc/nginx/sites-enabled/fleetdemo.conf", "10.0.0.12:8000", 5]);
    expect(plain(sw.inputs.keepReleases)).toBe(3);
    expect(sw.options?.additionalSecretOutputs.sort()).toEqual(["connection", "drain"]);
    // gunicorn itself never restarts for a change: a release, env file or unit file goes
    // through the switch (drained, or checked beside the running release, and gated).
    expect(plain(run.one(T.service, "app2-fleetdemo-gunicorn").inputs.restartOn)).toEqual({});
    // Each write of the env or unit file (a change, or drift put back) restarts through the switch.
    expect(plain(sw.inputs.restartOn)).toEqual({ env: "app2-fleetdemo-env written", "fleetdemo-gunicorn.service": "app2-fleetdemo-gunicorn-unit written" });
    expect(plain(sw.inputs.side)).toEqual({ envFile: "/etc/fleetdemo/env", wsgiModule: "fleetdemo.wsgi:application", configFile: "/etc/fleetdemo/gunicorn.conf.py" });
  });

  it("migrate runs once, on the first app host", () => {
    expect(hostOf(run.one(T.script, "fleetdemo-migrate"))).toBe("203.0.113.11");
  });

  it("every host ships its logs to the logging host's private address", () => {
    const ships = run.all(T.file).filter((r) => r.name.startsWith("logging-ship-"));
    expect(ships).toHaveLength(8);
    for (const s of ships) {
      const expected = hostOf(s) === "203.0.113.17" ? "127.0.0.1" : "10.0.0.17";
      expect(text(s.inputs.content)).toContain(expected);
    }
  });

  it("logs TLS: the CA and every certificate are made on the logging host, each key on its own host, no secret in any step", () => {
    const logging = "203.0.113.17";
    const probes = run.all(T.probe).filter((r) => r.name.startsWith("logging-"));
    for (const name of ["logging-ca", "logging-server-cert"]) expect(hostOf(run.one(T.probe, name))).toBe(logging);
    const csrs = probes.filter((r) => r.name.startsWith("logging-csr-"));
    const issues = probes.filter((r) => r.name.startsWith("logging-issue-"));
    expect(csrs).toHaveLength(8);
    expect(issues).toHaveLength(8);
    expect(new Set(csrs.map(hostOf)).size).toBe(8);
    for (const r of issues) expect(hostOf(r)).toBe(logging);
    // Each host's certificate is the one issued for its own request.
    for (const r of csrs) {
      const host = r.name.slice("logging-csr-".length);
      expect(text(run.one(T.probe, `logging-issue-${host}`).inputs.probe)).toContain(Buffer.from(`logging-csr-${host}`).toString("base64"));
      expect(hostOf(run.one(T.file, `logging-cert-${host}`))).toBe(hostOf(r));
    }
    for (const r of [...probes, ...run.all(T.file).filter((f) => /^logging-(ca|cert)-/.test(f.name))]) {
      // (The connection is the SSH one, secret as everywhere; the step itself holds no key.)
      expect(text(r.inputs.probe ?? r.inputs.content)).not.toContain("PRIVATE KEY");
      expect(isSecret(r.inputs.probe ?? r.inputs.content)).toBe(false);
    }
  });

  it("exports the load balancer's URL and both app hosts", async () => {
    expect(await valueOf(run.module!.siteUrl)).toBe("http://203.0.113.10/");
    expect(await valueOf(run.module!.appHosts)).toEqual(["10.0.0.11", "10.0.0.12"]);
    expect(await valueOf(run.module!.brokerUrl)).toBe("redis://:fleetdemo-redis-password-value@10.0.0.16:6379/0");
  });
});

describe("invalid config: refused before any resource is registered", () => {
  let ConfigError: new (...args: never[]) => Error & { problems: string[] };
  beforeAll(async () => {
    // The class index.ts throws: the one Node's loader gave it, not vitest's copy.
    ({ ConfigError } = await nativeImport(new URL("../../config/load.ts", import.meta.url).href) as { ConfigError: typeof ConfigError });
  });

  const cases: Array<[string, () => Record<string, unknown>, () => string[]]> = [
    ["a topology rule is broken (two beats)", () => ({
      ...devConfig(),
      hosts: [{ name: "fleet-dev", roles: ALL_ROLES, os: "debian12" }, { name: "other", address: "10.0.0.2", hostKey: HOST_KEY, roles: ["worker", "beat"], os: "debian12" }],
    }), () => [
      'hosts: exactly one host must have the role "beat" (Celery beat must run once in the whole fleet, or periodic tasks run twice or never); found 2 (fleet-dev, other). Fix: add "beat" to the roles of exactly one host',
    ]],
    ["a key is misspelled", () => ({ ...devConfig(), databse: { name: "x" } }), () => [
      "databse: unknown key. Fix: remove it (`npm run pulumi -- config rm --path 'databse'`) or correct its spelling",
    ]],
    ["the private key cannot be read", () => ({ ...devConfig(), inventoryFile: undefined, sshPrivateKeyPath: join(dir, "no-such-key"),
      hosts: [{ name: "fleet-dev", address: "10.0.0.1", hostKey: HOST_KEY, roles: ALL_ROLES, os: "debian12" }] }), () => [
      `sshPrivateKeyPath: cannot read the SSH private key ${join(dir, "no-such-key")}. Fix: point it at a readable key file`,
    ]],
    ["an app package name that is not a Debian package name", () => ({ ...devConfig(), app: app({ packages: ["libpq-dev; rm -rf /"] }) }), () => [
      'app.packages[0]: must be a Debian package name (lower-case letters, digits, + - .), got "libpq-dev; rm -rf /". Fix: `npm run pulumi -- config set --path \'app.packages[0]\' <value>`',
    ]],
    ["a host pinned to a release django-fleet does not support", () => ({ ...devConfig(), hosts: [{ name: "fleet-dev", roles: ALL_ROLES, os: "debian11" }] }), () => [
      'hosts[0].os: Invalid option: expected one of "debian12"|"debian13", got "debian11". Fix: `npm run pulumi -- config set --path \'hosts[0].os\' <value>`',
    ]],
    ["the requirements file named is not in the repository", () => ({ ...devConfig(), app: app({ requirementsFile: "requirements/prod.txt" }) }), () => [
      'app.requirementsFile: "requirements/prod.txt" is not in the repository. Fix: `npm run pulumi -- config set --path app.requirementsFile <path>` (relative to the repository root)',
    ]],
  ];
  for (const [name, config, problems] of cases) {
    it(name, async () => {
      const c = Object.fromEntries(Object.entries(config()).filter(([, v]) => v !== undefined));
      const run = await runProgram(c);
      expect(run.error).toBeInstanceOf(ConfigError);
      expect((run.error as { problems: string[] }).problems).toEqual(problems());
      expect(run.resources).toEqual([]);
      // A config refused by the checks made on this machine never reaches the engine at all;
      // a problem found in the repository does so only to start the plugin (lib/startup.ts).
      expect(run.calls).toEqual(/repository/.test(name) ? [WARM_UP_TOKEN] : []);
    });
  }
});

/** The dev stack backed up to a path-style object store, with a retention of its own. */
const BACKUP_TARGET = { ...S3_TARGET, bucket: "fleet-backups", pathStyle: true };
const backupsConfig = () => ({ ...devConfig(), backup: { target: BACKUP_TARGET, retention: { daily: 3, weekly: 2, monthly: 1 } } });

describe("backups on: pgBackRest on the primary, the target proven before PostgreSQL archives", () => {
  let run: Run;
  const target = BACKUP_TARGET;
  beforeAll(async () => {
    run = await runProgram(backupsConfig());
  });

  it("loads without error and exports the target, never the keys", async () => {
    expect(run.error).toBeUndefined();
    expect(await valueOf(run.module!.backup)).toEqual({
      endpoint: "https://s3.example.net", bucket: "fleet-backups", region: "us-east-1", prefix: "django-fleet/test",
      tool: "pgbackrest", schedule: "*-*-* 03:00:00", retention: { daily: 3, weekly: 2, monthly: 1 },
    });
  });

  it("installs pgBackRest with the database's packages", () => {
    expect(text(run.one(T.script, "fleet-dev-packages").inputs.create)).toMatch(/\bpgbackrest\b/);
  });

  it("the repository config, with keys and cipher pass, is the only new secret file, readable by postgres alone", () => {
    const conf = run.one(T.file, "db-backup-conf");
    expect(isSecret(conf.inputs.content)).toBe(true);
    expect(plain(conf.inputs)).toMatchObject({ path: "/etc/pgbackrest/pgbackrest.conf.next", owner: "root", group: "postgres", mode: "0640" });
    expect(text(conf.inputs.content)).toContain("repo1-s3-key-secret=s3-secret-example");
    const secretFiles = run.all(T.file).filter((r) => isSecret(r.inputs.content)).map((r) => r.name).sort();
    // And restic's env file for the uploads on disk (a single host with local media).
    expect(secretFiles).toEqual(["db-backup-conf", "fleet-dev-fleetdemo-env", "fleetdemo-media-backup-env"]);
    expect(plain(run.one(T.file, "fleetdemo-media-backup-env").inputs)).toMatchObject({ path: "/etc/django-fleet/restic-media.env", mode: "0600" });
  });

  it("no script, unit or other file holds the secret key", () => {
    const texts = [...run.all(T.script).flatMap((r) => [r.inputs.create, r.inputs.check, r.inputs.delete]),
      ...run.all(T.file).filter((r) => !["db-backup-conf", "fleet-dev-fleetdemo-env", "fleetdemo-media-backup-env"].includes(r.name)).map((r) => r.inputs.content)]
      .filter((v) => v !== undefined).map((v) => JSON.stringify(plain(v)));
    expect(texts.filter((t) => t.includes("s3-secret-example"))).toEqual([]);
  });

  it("PostgreSQL archives only after the stanza is made, and the bare-cluster restore runs before the database step", () => {
    const pgConf = run.one(T.file, "db-conf");
    expect(text(pgConf.inputs.content)).toContain("archive_mode = on");
    expect(text(pgConf.inputs.content)).toContain("archive_command = 'pgbackrest --stanza=django-fleet archive-push %p'");
    expect(pgConf.options?.dependencies.some((u) => u.endsWith("::db-backup-stanza"))).toBe(true);
    const stanza = run.one(T.script, "db-backup-stanza");
    expect(stanza.options?.dependencies.some((u) => u.endsWith("::db-backup-restore-if-bare"))).toBe(true);
    expect(text(stanza.inputs.create)).toContain("install -m 0640 -o root -g postgres /etc/pgbackrest/pgbackrest.conf.next /etc/pgbackrest/pgbackrest.conf");
    const first = run.one(T.script, "db-backup-first");
    expect(first.options?.dependencies.some((u) => u.endsWith("::db-database-fleetdemo"))).toBe(true);
  });

  it("the backup and the drill run on persistent timers", () => {
    const timer = run.one(T.file, "db-backup-timer-unit");
    expect(text(timer.inputs.content)).toContain("OnCalendar=*-*-* 03:00:00");
    expect(text(timer.inputs.content)).toContain("Persistent=true");
    expect(text(run.one(T.file, "db-backup-drill-timer-unit").inputs.content)).toContain("OnCalendar=Sun *-*-* 04:30:00");
    expect(run.all(T.service).map((r) => plain(r.inputs.unit))).toEqual(expect.arrayContaining(["django-fleet-backup.timer", "django-fleet-restore-drill.timer"]));
  });

  it("uploads on the one app host's disk are backed up, and restored before the app serves", () => {
    expect(text(run.one(T.file, "fleetdemo-media-backup-script").inputs.content)).toContain("backup --tag django-fleet-media --host django-fleet-media -- /srv/fleetdemo/shared/media");
    const gunicorn = run.one(T.service, "fleet-dev-fleetdemo-gunicorn");
    const node = run.all("django-fleet:fleet:AppNode")[0]!;
    expect([...(gunicorn.options?.dependencies ?? []), ...(node.options?.dependencies ?? [])].some((u) => u.endsWith("::fleetdemo-media-backup-restore-if-empty"))).toBe(true);
    expect(text(run.one(T.script, "fleet-dev-packages").inputs.create)).toMatch(/\brestic\b/);
  });

  it("keys in plain config are refused before anything is registered", async () => {
    const plainRun = await runProgramPlain({ ...devConfig(), backup: { target } });
    expect(String(plainRun.error)).toContain("backup.target.secretAccessKey: is stored in plain text");
    expect(plainRun.resources).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// Several apps: the second app is the blog sample (examples/blog), with its own settings
// module, env names, list separator and host name.

const BLOG_ENV_NAMES = {
  secretKey: "BLOG_SECRET", databaseUrl: "BLOG_DB_URL", brokerUrl: "BLOG_BROKER", allowedHosts: "BLOG_HOSTS",
  staticRoot: "BLOG_STATIC_DIR", mediaRoot: "BLOG_MEDIA_DIR", cacheUrl: "BLOG_CACHE",
};
const fleetdemoApp = () => app({ domains: ["fleetdemo.example", "www.fleetdemo.example"] });
const blogApp = () => ({
  name: "blog", repo, ref: "main", settingsModule: "blogsite.conf.live", wsgiModule: "blogsite.wsgi:application",
  celeryApp: "blogsite", listSeparator: ";", envNames: BLOG_ENV_NAMES, domains: ["blog.example"],
});
/** One host for nginx, both apps, Celery and RabbitMQ; the database on its own host (so pg_hba has rules). */
function twoAppsConfig(apps: unknown[]): Record<string, unknown> {
  const h = (name: string, n: number, roles: string[]) =>
    ({ name, address: `203.0.113.${n}`, privateAddress: `10.0.0.${n}`, hostKey: HOST_KEY, roles, os: "debian13" });
  return {
    sshPrivateKeyPath: keyPath,
    hosts: [h("web", 20, ["loadBalancer", "app", "worker", "beat", "broker", "logging"]), h("db", 21, ["db"])],
    apps,
    broker: { kind: "rabbitmq" },
    loadBalancer: { tls: "none" },
  };
}
/** Ports derived from the names (config/apps.ts, pinned in apps.test.ts). */
const FLEETDEMO_PORT = 8668;
const BLOG_PORT = 8421;

/** The resources one app of the two brings: its component, secrets, database, broker account, code, units, site. */
function appResources(a: string): string[] {
  const d = "pulumi-nodejs:dynamic/fleet";
  return [
    `django-fleet:fleet:AppNode web-${a}`,
    `django-fleet:fleet:AppRelease web-${a}`,
    `django-fleet:fleet:CeleryWorker web-${a}-celery`,
    `django-fleet:fleet:DjangoApp ${a}`,
    `${d}:PostgresDatabase db-database-${a}`,
    `${d}:RandomSecret ${a}-broker-password`,
    `${d}:RandomSecret ${a}-db-password`,
    `${d}:RandomSecret ${a}-django-secret-key`,
    `${d}:RemoteFile ${a}-app-record`,
    `${d}:RemoteFile lb-site-${a}`,
    `${d}:RemoteFile web-${a}-celery-beat-unit`,
    `${d}:RemoteFile web-${a}-celery-worker-unit`,
    `${d}:RemoteFile web-${a}-env`,
    `${d}:RemoteFile web-${a}-gunicorn-conf`,
    `${d}:RemoteFile web-${a}-gunicorn-socket-unit`,
    `${d}:RemoteFile web-${a}-gunicorn-unit`,
    `${d}:RemoteProbe web-${a}-settings`,
    `${d}:RemoteScript ${a}-migrate`,
    `${d}:RemoteScript broker-account-${a}`,
    `${d}:RemoteScript lb-unload-${a}`,
    `${d}:ReleaseSwitch web-${a}-release`,
    `${d}:RemoteScript web-${a}-build`,
    `${d}:RemoteScript web-${a}-collectstatic`,
    `${d}:RemoteScript web-${a}-gunicorn-socket`,
    `${d}:RemoteScript web-${a}-layout`,
    `${d}:RemoteScript web-${a}-shared`,
    `${d}:SystemdService web-${a}-celery-beat`,
    `${d}:SystemdService web-${a}-celery-worker`,
    `${d}:SystemdService web-${a}-gunicorn`,
  ];
}

/** What one app's name shows up in (its own resources); the shared ones never carry an app's name. */
const ownedBy = (a: string) => (r: Registered) => new RegExp(`(^|-)${a}(-|$)`).test(r.name);

describe("two apps on one host", () => {
  let run: Run;
  const hostOf = (r: Registered) => (plain(r.inputs.connection) as { host: string }).host;
  beforeAll(async () => { run = await runProgram(twoAppsConfig([fleetdemoApp(), blogApp()])); });

  it("loads without error", () => {
    expect(run.error).toBeUndefined();
  });

  it("registers exactly these resources: the shared ones once, each app's own", () => {
    const d = "pulumi-nodejs:dynamic/fleet";
    expect(run.resources.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      "django-fleet:fleet:Broker broker",
      "django-fleet:fleet:DbServer db",
      "django-fleet:fleet:Firewall db-firewall",
      "django-fleet:fleet:Firewall web-firewall",
      "django-fleet:fleet:Host db",
      "django-fleet:fleet:Host web",
      "django-fleet:fleet:LoadBalancer lb",
      "django-fleet:fleet:LoggingServer logging",
      `${d}:RemoteFile broker-conf`,
      `${d}:RemoteFile db-conf`,
      `${d}:RemoteFile db-firewall-rules`,
      `${d}:RemoteFile db-firewall-unit`,
      `${d}:RemoteFile db-hba`,
      `${d}:RemoteFile lb-default-server`,
      `${d}:RemoteFile lb-default-site`,
      `${d}:RemoteFile logging-ca-db`,
      `${d}:RemoteFile logging-ca-web`,
      `${d}:RemoteFile logging-cert-db`,
      `${d}:RemoteFile logging-cert-web`,
      `${d}:RemoteFile logging-retention`,
      `${d}:RemoteFile logging-server-conf`,
      `${d}:RemoteFile logging-ship-db`,
      `${d}:RemoteFile logging-ship-web`,
      `${d}:RemoteFile web-firewall-rules`,
      `${d}:RemoteFile web-firewall-unit`,
      `${d}:RemoteProbe logging-ca`,
      `${d}:RemoteProbe logging-csr-db`,
      `${d}:RemoteProbe logging-csr-web`,
      `${d}:RemoteProbe logging-issue-db`,
      `${d}:RemoteProbe logging-issue-web`,
      `${d}:RemoteProbe logging-server-cert`,
      `${d}:RemoteScript db-nftables`,
      `${d}:RemoteScript db-packages`,
      `${d}:RemoteScript logging-check-db`,
      `${d}:RemoteScript logging-check-web`,
      `${d}:RemoteScript web-nftables`,
      `${d}:RemoteScript web-packages`,
      `${d}:SystemdService broker-service`,
      `${d}:SystemdService db-firewall-service`,
      `${d}:SystemdService db-service`,
      `${d}:SystemdService lb-nginx`,
      `${d}:SystemdService logging-rsyslog-db`,
      `${d}:SystemdService logging-rsyslog-web`,
      `${d}:SystemdService web-firewall-service`,
      ...appResources("fleetdemo"),
      ...appResources("blog"),
    ].sort());
  });

  it("each app's resources are children of its DjangoApp component (or of the shared server that holds them)", () => {
    for (const a of ["fleetdemo", "blog"]) {
      const component = `urn:pulumi:test::django-fleet::django-fleet:fleet:DjangoApp::${a}`;
      // At the root, as the Host components are (the mocks register no stack resource).
      expect(run.one("django-fleet:fleet:DjangoApp", a).options?.parent).toBe(run.one("django-fleet:fleet:Host", "web").options?.parent);
      for (const name of [`${a}-django-secret-key`, `${a}-db-password`, `${a}-broker-password`]) expect(run.one(T.secret, name).options?.parent).toBe(component);
      expect(run.one(T.script, `${a}-migrate`).options?.parent).toBe(component);
      for (const type of ["AppRelease", "AppNode"]) expect(run.one(`django-fleet:fleet:${type}`, `web-${a}`).options?.parent).toBe(component);
      expect(run.one("django-fleet:fleet:CeleryWorker", `web-${a}-celery`).options?.parent).toBe(component);
      expect(run.one(T.database, `db-database-${a}`).options?.parent).toMatch(/::django-fleet:fleet:DbServer::db$/);
      expect(run.one(T.script, `broker-account-${a}`).options?.parent).toMatch(/::django-fleet:fleet:Broker::broker$/);
      expect(run.one(T.file, `lb-site-${a}`).options?.parent).toMatch(/::django-fleet:fleet:LoadBalancer::lb$/);
    }
  });

  it("each env file holds its own app's settings, database, broker vhost and secrets, under its own names", () => {
    const env = (a: string) => {
      const f = run.one(T.file, `web-${a}-env`);
      expect(isSecret(f.inputs.content)).toBe(true);
      expect([f.inputs.path, f.inputs.mode, hostOf(f)]).toEqual([`/etc/${a}/env`, "0600", "203.0.113.20"]);
      return text(f.inputs.content);
    };
    expect(env("fleetdemo")).toBe([
      "# Managed by django-fleet (pulumi). Manual edits are reverted on the next `pulumi up`.",
      'CELERY_BROKER_URL="amqp://fleetdemo:fleetdemo-broker-password-value@127.0.0.1:5672/fleetdemo"',
      'DATABASE_URL="postgres://fleetdemo:fleetdemo-db-password-value@10.0.0.21:5432/fleetdemo"',
      'DJANGO_ALLOWED_HOSTS="fleetdemo.example,www.fleetdemo.example,203.0.113.20,10.0.0.20,localhost,127.0.0.1"',
      'DJANGO_MEDIA_ROOT="/srv/fleetdemo/public/media"',
      'DJANGO_SECRET_KEY="fleetdemo-django-secret-key-value"',
      'DJANGO_SETTINGS_MODULE="fleetdemo.settings"',
      'DJANGO_STATIC_ROOT="/srv/fleetdemo/public/static"',
    ].join("\n") + "\n");
    expect(env("blog")).toBe([
      "# Managed by django-fleet (pulumi). Manual edits are reverted on the next `pulumi up`.",
      'BLOG_BROKER="amqp://blog:blog-broker-password-value@127.0.0.1:5672/blog"',
      'BLOG_DB_URL="postgres://blog:blog-db-password-value@10.0.0.21:5432/blog"',
      'BLOG_HOSTS="blog.example;203.0.113.20;10.0.0.20;localhost;127.0.0.1"',
      'BLOG_MEDIA_DIR="/srv/blog/public/media"',
      'BLOG_SECRET="blog-django-secret-key-value"',
      'BLOG_STATIC_DIR="/srv/blog/public/static"',
      'DJANGO_SETTINGS_MODULE="blogsite.conf.live"',
    ].join("\n") + "\n");
  });

  it("the only secret files are the two env files", () => {
    expect(run.all(T.file).filter((r) => isSecret(r.inputs.content)).map((r) => r.name).sort()).toEqual(["web-blog-env", "web-fleetdemo-env"]);
  });

  it("each app has its own database and role, isolated, retained on delete, on the database host", () => {
    for (const a of ["fleetdemo", "blog"]) {
      const db = run.one(T.database, `db-database-${a}`);
      expect(hostOf(db)).toBe("203.0.113.21");
      expect(plain(db.inputs)).toMatchObject({ database: a, owner: a, password: `${a}-db-password-value`, isolated: true });
      expect(isSecret(db.inputs.password)).toBe(true);
      expect(db.options).toMatchObject({ retainOnDelete: true, protect: false });
    }
  });

  it("pg_hba lets each app's role reach its own database only, from the host that runs it", () => {
    const hba = text(run.one(T.file, "db-hba").inputs.content);
    expect(hba.split("\n").filter((l) => /^host\s+(fleetdemo|blog)\s/.test(l))).toEqual([
      "host    fleetdemo       fleetdemo       10.0.0.20/32            scram-sha-256",
      "host    blog            blog            10.0.0.20/32            scram-sha-256",
    ]);
    expect(text(run.one(T.file, "db-conf").inputs.content).split("\n")).toContain("listen_addresses = 'localhost,10.0.0.21'");
  });

  it("each app has its own RabbitMQ vhost and user, with its own password, as a secret", () => {
    for (const a of ["fleetdemo", "blog"]) {
      const account = run.one(T.script, `broker-account-${a}`);
      expect(plain(account.inputs.secrets)).toEqual({ BROKER_PASSWORD: `${a}-broker-password-value` });
      expect(isSecret(account.inputs.secrets)).toBe(true);
      // Its vhost, user and rights on that vhost only, in one definitions import.
      expect(text(account.inputs.create)).toContain(`"vhosts":[{"name":"${a}"}],"permissions":[{"user":"${a}","vhost":"${a}","configure":".*","write":".*","read":".*"}]`);
      expect(text(account.inputs.create)).not.toContain("password-value");
      expect(text(account.inputs.delete)).toBe(`timeout 60 rabbitmqctl -q delete_user ${a} </dev/null >/dev/null 2>&1 || true\n`);
    }
  });

  it("two nginx sites, each under its own host names, to its own port, serving its own static folder", () => {
    const site = (a: string) => {
      const f = run.one(T.file, `lb-site-${a}`);
      expect(f.inputs.path).toBe(`/etc/nginx/sites-enabled/${a}.conf`);
      return text(f.inputs.content);
    };
    const fleetdemo = site("fleetdemo");
    expect(fleetdemo).toContain("    server_name fleetdemo.example www.fleetdemo.example;");
    expect(fleetdemo).toContain(`upstream fleetdemo_app {\n    server 127.0.0.1:${FLEETDEMO_PORT} max_fails=3 fail_timeout=10s;`);
    expect(fleetdemo).toContain("    location /static/ {\n        alias /srv/fleetdemo/shared/staticfiles/;");
    expect(fleetdemo).not.toMatch(/blog/);
    const blog = site("blog");
    expect(blog).toContain("    server_name blog.example;");
    expect(blog).toContain(`upstream blog_app {\n    server 127.0.0.1:${BLOG_PORT} max_fails=3 fail_timeout=10s;`);
    expect(blog).toContain("    location /assets/ {\n        alias /srv/blog/shared/collected/;");
    expect(blog).toContain("    location /uploads/ {\n        alias /srv/blog/shared/uploads/;");
    expect(blog).not.toMatch(/fleetdemo/);
    for (const s of [fleetdemo, blog]) expect(s).not.toMatch(/default_server|server_name _;/);
  });

  it("a default server answers names no app serves (444), and nginx reloads on each site's change", () => {
    const fallback = run.one(T.file, "lb-default-server");
    expect(fallback.inputs.path).toBe("/etc/nginx/sites-enabled/00-default-server.conf");
    expect(text(fallback.inputs.content)).toBe(readFileSync(new URL("golden/nginx-default-server-http.txt", import.meta.url), "utf8"));
    const nginx = run.one(T.service, "lb-nginx");
    expect(Object.keys(plain(nginx.inputs.reloadOn) as object).sort()).toEqual(["00-default-server.conf", "blog.conf", "fleetdemo.conf"]);
    for (const f of ["lb-default-server", "lb-site-blog", "lb-site-fleetdemo", "lb-default-site"]) {
      expect(nginx.options?.dependencies.some((u) => u.endsWith(`::${f}`)), f).toBe(true);
    }
  });

  it("each app's gunicorn binds its own derived port, and its units carry its name", () => {
    for (const [a, port] of [["fleetdemo", FLEETDEMO_PORT], ["blog", BLOG_PORT]] as const) {
      expect(text(run.one(T.file, `web-${a}-gunicorn-conf`).inputs.content).split("\n")).toContain(`bind = "127.0.0.1:${port}"`);
      expect(plain(run.one(T.service, `web-${a}-gunicorn`).inputs.unit)).toBe(`${a}-gunicorn.service`);
      expect(plain(run.one(T.service, `web-${a}-celery-worker`).inputs.unit)).toBe(`${a}-celery-worker.service`);
      expect(plain(run.one(T.service, `web-${a}-celery-beat`).inputs.unit)).toBe(`${a}-celery-beat.service`);
    }
    expect(text(run.one(T.file, "web-blog-celery-worker-unit").inputs.content)).toContain("-A blogsite worker");
    expect(text(run.one(T.file, "web-fleetdemo-celery-worker-unit").inputs.content)).toContain("-A fleetdemo worker");
  });

  it("each app migrates after its own database and its own release", () => {
    for (const [a, other] of [["fleetdemo", "blog"], ["blog", "fleetdemo"]] as const) {
      const deps = run.one(T.script, `${a}-migrate`).options?.dependencies ?? [];
      expect(deps.some((u) => u.endsWith(`::db-database-${a}`))).toBe(true);
      expect(deps.some((u) => u.endsWith(`::web-${a}-env`))).toBe(true);
      expect(deps.some((u) => u.includes(other))).toBe(false);
    }
  });

  it("a record of each app on the database host", () => {
    for (const [a, db] of [["fleetdemo", "fleetdemo"], ["blog", "blog"]] as const) {
      const r = run.one(T.file, `${a}-app-record`);
      expect(hostOf(r)).toBe("203.0.113.21");
      expect(plain(r.inputs)).toMatchObject({ path: `/etc/django-fleet/apps/${a}.app`, content: `${db}\n` });
    }
  });

  it("no two files on one host have the same path", () => {
    const paths = run.all(T.file).map((r) => `${hostOf(r)}:${String(plain(r.inputs.path))}`);
    expect(paths.filter((p, i) => paths.indexOf(p) !== i)).toEqual([]);
  });

  it("the first app keeps the one-app names through aliases; the second has none", () => {
    const aliasOf = (type: string, name: string) => run.one(type, name).options?.aliases;
    const root = { type: "", parentUrn: "", noParent: true };
    expect(aliasOf(T.secret, "fleetdemo-django-secret-key")).toEqual([{ name: "django-secret-key", ...root }]);
    expect(aliasOf(T.secret, "fleetdemo-db-password")).toEqual([{ name: "db-password", ...root }]);
    expect(aliasOf(T.secret, "fleetdemo-broker-password")).toEqual([{ name: "broker-password", ...root }]);
    expect(aliasOf(T.database, "db-database-fleetdemo")).toEqual([
      { name: "db-database", type: "", parentUrn: "urn:pulumi:test::django-fleet::django-fleet:fleet:DbServer::db", noParent: false },
    ]);
    expect(aliasOf(T.script, "broker-account-fleetdemo")).toEqual([
      { name: "broker-account", type: "", parentUrn: "urn:pulumi:test::django-fleet::django-fleet:fleet:Broker::broker", noParent: false },
    ]);
    expect(aliasOf(T.file, "lb-site-fleetdemo")).toEqual([
      { name: "lb-site", type: "", parentUrn: "urn:pulumi:test::django-fleet::django-fleet:fleet:LoadBalancer::lb", noParent: false },
    ]);
    // Resources that were at the root keep their names and move under the component.
    for (const [type, name] of [[T.script, "fleetdemo-migrate"], ["django-fleet:fleet:AppRelease", "web-fleetdemo"], ["django-fleet:fleet:AppNode", "web-fleetdemo"], ["django-fleet:fleet:CeleryWorker", "web-fleetdemo-celery"]] as const) {
      expect(aliasOf(type, name), name).toEqual([{ name: "", ...root }]);
    }
    const blog = run.resources.filter(ownedBy("blog"));
    expect(blog).toHaveLength(appResources("blog").length);
    for (const r of blog) expect(r.options?.aliases, r.name).toEqual([]);
  });

  it("exports every app under `apps` (plain) and its credentials under `appSecrets` (secret); the one-app outputs describe the first", async () => {
    const m = run.module!;
    expect(await valueOf(m.apps)).toEqual({
      fleetdemo: {
        url: "http://fleetdemo.example/", hosts: ["10.0.0.20"], port: FLEETDEMO_PORT, database: { name: "fleetdemo", user: "fleetdemo" },
        brokerVhost: "fleetdemo", brokerRedisDb: null, deployedCommit: commit,
      },
      blog: {
        url: "http://blog.example/", hosts: ["10.0.0.20"], port: BLOG_PORT, database: { name: "blog", user: "blog" },
        brokerVhost: "blog", brokerRedisDb: null, deployedCommit: commit,
      },
    });
    expect(await pulumi.isSecret(pulumi.output(m.apps))).toBe(false);
    expect(await valueOf(m.appSecrets)).toEqual({
      fleetdemo: { databasePassword: "fleetdemo-db-password-value", brokerUrl: "amqp://fleetdemo:fleetdemo-broker-password-value@10.0.0.20:5672/fleetdemo" },
      blog: { databasePassword: "blog-db-password-value", brokerUrl: "amqp://blog:blog-broker-password-value@10.0.0.20:5672/blog" },
    });
    expect(await pulumi.isSecret(pulumi.output(m.appSecrets))).toBe(true);
    expect(await valueOf(m.broker)).toEqual({ kind: "rabbitmq", host: "10.0.0.20", port: 5672 });
    expect(await valueOf(m.siteUrl)).toBe("http://fleetdemo.example/");
    expect(await valueOf(m.database)).toEqual({ engine: "postgresql", host: "10.0.0.21", port: 5432, name: "fleetdemo", user: "fleetdemo" });
    expect(await valueOf(m.databasePassword)).toBe("fleetdemo-db-password-value");
    expect(await valueOf(m.brokerUrl)).toBe("amqp://fleetdemo:fleetdemo-broker-password-value@10.0.0.20:5672/fleetdemo");
    expect(await valueOf(m.appHosts)).toEqual(["10.0.0.20"]);
  });
});

describe("several apps: a problem of one app's repository is refused before anything is registered", () => {
  it("names the app's key (apps[1]), not app", async () => {
    const { ConfigError } = await nativeImport(new URL("../../config/load.ts", import.meta.url).href) as { ConfigError: new () => Error };
    const run = await runProgram(twoAppsConfig([fleetdemoApp(), { ...blogApp(), requirementsFile: "requirements/prod.txt" }]));
    expect(run.error).toBeInstanceOf(ConfigError);
    const problems = (run.error as { problems: string[] }).problems;
    expect(problems).toHaveLength(1);
    // (Only the key is asserted: the Fix part still names app.requirementsFile, reported to the lead.)
    expect(problems[0]).toMatch(/^apps\[1\]\.requirementsFile: "requirements\/prod\.txt" is not in the repository\. Fix: /);
    expect(run.resources).toEqual([]);
  });
});

describe("adding or removing an app leaves the other app's resources as they were", () => {
  let both: Run;
  let onlyFleetdemo: Run;
  let onlyBlog: Run;
  beforeAll(async () => {
    both = await runProgram(twoAppsConfig([fleetdemoApp(), blogApp()]));
    onlyFleetdemo = await runProgram(twoAppsConfig([fleetdemoApp()]));
    onlyBlog = await runProgram(twoAppsConfig([blogApp()]));
  });

  /** Everything the engine compares: type, name, inputs (secrets unwrapped) and options. */
  const snapshot = (r: Registered) => JSON.stringify({ type: r.type, name: r.name, inputs: plain(r.inputs), options: r.options });
  const byName = (run: Run, a: string) => new Map(run.resources.filter(ownedBy(a)).map((r) => [`${r.type} ${r.name}`, r]));

  it("every config loads", () => {
    expect([both.error, onlyFleetdemo.error, onlyBlog.error]).toEqual([undefined, undefined, undefined]);
  });

  it("removing blog (the second app): fleetdemo's resources are byte-identical, inputs and options", () => {
    const before = byName(both, "fleetdemo");
    const after = byName(onlyFleetdemo, "fleetdemo");
    expect([...after.keys()].sort()).toEqual(appResources("fleetdemo").sort());
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [key, r] of after) expect(snapshot(r), key).toBe(snapshot(before.get(key)!));
    expect(onlyFleetdemo.resources.filter(ownedBy("blog"))).toEqual([]);
  });

  it("removing blog changes only the shared files that named it, and drops the default server", () => {
    const before = new Map(both.resources.filter((r) => !ownedBy("blog")(r)).map((r) => [`${r.type} ${r.name}`, snapshot(r)]));
    const changed = onlyFleetdemo.resources.filter((r) => before.get(`${r.type} ${r.name}`) !== snapshot(r)).map((r) => r.name).sort();
    expect(changed).toEqual(["db-hba", "db-service", "lb-nginx"]);
    const gone = [...before.keys()].filter((k) => !onlyFleetdemo.resources.some((r) => `${r.type} ${r.name}` === k));
    expect(gone).toEqual(["pulumi-nodejs:dynamic/fleet:RemoteFile lb-default-server"]);
    expect(text(onlyFleetdemo.one(T.file, "db-hba").inputs.content)).not.toMatch(/^host\s+blog\s/m);
  });

  it("removing fleetdemo (the first app): blog's inputs are identical; it only gains the one-app aliases", () => {
    const before = byName(both, "blog");
    const after = byName(onlyBlog, "blog");
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [key, r] of after) {
      const was = before.get(key)!;
      expect(JSON.stringify(plain(r.inputs)), key).toBe(JSON.stringify(plain(was.inputs)));
      expect({ ...r.options, aliases: [] }, key).toEqual({ ...was.options, aliases: [] });
    }
    expect(onlyBlog.one(T.secret, "blog-db-password").options?.aliases).toEqual([{ name: "db-password", type: "", parentUrn: "", noParent: true }]);
  });
});

const twoAppsBackedUpConfig = () => ({ ...twoAppsConfig([fleetdemoApp(), blogApp()]), backup: { target: { ...S3_TARGET, bucket: "fleet-backups" } } });

describe("several apps with uploads on the one app host's disk, backed up", () => {
  let run: Run;
  const hostOf = (r: Registered) => (plain(r.inputs.connection) as { host: string }).host;
  beforeAll(async () => {
    run = await runProgram(twoAppsBackedUpConfig());
  });

  it("loads without error, with one uploads backup per app", () => {
    expect(run.error).toBeUndefined();
    expect(run.all("django-fleet:fleet:MediaBackup").map((r) => r.name).sort()).toEqual(["blog-media-backup", "fleetdemo-media-backup"]);
  });

  it("no two files on one host have the same path, and no two services the same unit", () => {
    const paths = run.all(T.file).map((r) => `${hostOf(r)}:${String(plain(r.inputs.path))}`);
    expect(paths.filter((p, i) => paths.indexOf(p) !== i)).toEqual([]);
    const units = run.all(T.service).map((r) => `${hostOf(r)}:${String(plain(r.inputs.unit))}`);
    expect(units.filter((u, i) => units.indexOf(u) !== i)).toEqual([]);
  });

  it("each app backs up its own uploads folder, and restores only its own snapshots", () => {
    const restores = ["fleetdemo", "blog"].map((a) => {
      const script = text(run.one(T.file, `${a}-media-backup-script`).inputs.content);
      expect(script).toContain(`/srv/${a}/shared/${a === "blog" ? "uploads" : "media"}`);
      const restore = text(run.one(T.script, `${a}-media-backup-restore-if-empty`).inputs.create);
      const host = /r restore latest --host (\S+) /.exec(restore)?.[1];
      expect(host, a).toBeDefined();
      // The backup script writes its snapshots under the host name the restore reads.
      expect(script).toContain(`--host ${host}`);
      return host;
    });
    expect(new Set(restores).size).toBe(2);
  });
});

/** A PEM file in the test's folder (a CA certificate's shape; nothing parses it). */
function pemFile(name: string): string {
  const file = join(dir, name);
  writeFileSync(file, `-----BEGIN CERTIFICATE-----\n${name === "acme-ca.pem" ? "MIIB" : name}\n-----END CERTIFICATE-----\n`);
  return file;
}

/** The dev stack with certificates from an ACME server whose CA is in a file. */
function acmeConfig(): Record<string, unknown> {
  const caFile = pemFile("acme-ca.pem");
  return {
    ...devConfig(),
    loadBalancer: { serverName: "shop.example www.shop.example", tls: "acme", acme: { email: "ops@shop.example", server: "https://acme.test:14000/dir", caFile, renewBeforeDays: 20 } },
  };
}

describe("tls acme: certbot on the load balancer, a placeholder until the first certificate", () => {
  let run: Run;
  beforeAll(async () => {
    run = await runProgram(acmeConfig());
  });

  it("loads without error and serves the site over https", async () => {
    expect(run.error).toBeUndefined();
    expect(await valueOf(run.module!.siteUrl)).toBe("https://shop.example/");
  });

  it("nginx reads the stable paths, which hold a placeholder first; the challenge is served on port 80", () => {
    const site = text(run.one(T.file, "lb-site-fleetdemo").inputs.content);
    expect(site).toContain("ssl_certificate /etc/django-fleet/tls/fleetdemo/fullchain.pem;");
    expect(site).toContain("location ^~ /.well-known/acme-challenge/ {");
    const placeholder = text(run.one(T.script, "lb-acme-placeholder-fleetdemo").inputs.create);
    expect(placeholder).toContain("-subj /CN=django-fleet-acme-placeholder");
    // Never over a real certificate.
    expect(placeholder).toContain("if [ ! -s /etc/django-fleet/tls/fleetdemo/fullchain.pem ]");
  });

  it("certbot asks the configured server for every name, trusting its CA, after nginx serves the challenge", () => {
    const cert = run.one(T.script, "lb-acme-certificate-fleetdemo");
    const create = text(cert.inputs.create);
    expect(create).toContain("env REQUESTS_CA_BUNDLE=/etc/django-fleet/acme-ca.pem certbot certonly --non-interactive");
    expect(create).toContain("--server https://acme.test:14000/dir");
    expect(create).toContain("-d shop.example -d www.shop.example");
    expect(create).toContain("renew_before_expiry = 20 days");
    // The forced order never keeps the old certificate.
    const forced = create.split("\n").find((l) => l.includes("--force-renewal"))!;
    expect(forced).not.toContain("--keep-until-expiring");
    expect(text(cert.inputs.check)).toContain("-checkend 1728000");
    expect(cert.options!.dependencies.some((d) => d.endsWith("::lb-nginx"))).toBe(true);
    expect(plain(run.one(T.file, "lb-acme-ca").inputs)).toMatchObject({ path: "/etc/django-fleet/acme-ca.pem" });
    expect(text(run.one(T.file, "lb-acme-certbot-drop-in").inputs.content)).toContain("Environment=REQUESTS_CA_BUNDLE=/etc/django-fleet/acme-ca.pem");
    expect(text(run.one(T.script, "fleet-dev-packages").inputs.create)).toMatch(/\bcertbot\b/);
  });
});

/** `cfg` with a cache of `kind` on its first host. */
const withCache = (cfg: Record<string, unknown>, kind: string) => ({
  ...cfg, cache: { kind },
  hosts: (cfg.hosts as Array<{ roles: string[] }>).map((h, i) => (i === 0 ? { ...h, roles: [...h.roles, "cache"] } : h)),
});
const sharedRedisCacheConfig = () => withCache({ ...twoAppsConfig([fleetdemoApp(), { ...blogApp(), broker: { redisDb: 2 } }]), broker: { kind: "redis" } }, "redis");
const ownRedisCacheConfig = () => withCache({ ...devConfig(), backup: { target: { ...S3_TARGET, bucket: "fleet-backups" } } }, "redis");
const memcachedConfig = () => withCache(devConfig(), "memcached");

/**
 * Issue 22: Pulumi keeps secrecy per top-level output (a StackReference marks an output
 * secret if anything in it is), so the program never mixes plain facts and credentials
 * in one output. Each case lists the secret outputs exactly; every other export must be
 * plain at every depth, and every leaf of a secret output must carry a generated secret
 * (a plain field inside a secret output fails here).
 */
describe("stack outputs: credentials only in secret outputs, plain facts never inside one", () => {
  const EXPORTS = [
    "appHosts", "appSecrets", "apps", "backup", "backupEncryptionKey", "broker", "brokerUrl", "cache", "cacheUrl", "database",
    "databasePassword", "databaseReplicas", "deployedCommit", "hostAddresses", "lastRestoreDrill", "loggingEndpoint", "siteUrl",
  ];
  const cases: Array<[string, () => Record<string, unknown>, string[], Record<string, unknown>]> = [
    ["one host, RabbitMQ, no cache, no backups", devConfig, ["appSecrets", "brokerUrl", "databasePassword"], { cacheUrl: null }],
    ["two apps, Redis broker, a Redis cache sharing the broker's server", sharedRedisCacheConfig,
      ["appSecrets", "brokerUrl", "cacheUrl", "databasePassword"],
      // Each app has its own server: the first app's port, as the one-app outputs say.
      { cache: { kind: "redis", host: "10.0.0.20", port: 6688, redisDb: 1 }, broker: { kind: "redis", host: "10.0.0.20", port: 6688 } }],
    ["a Redis cache of its own, backups on", ownRedisCacheConfig,
      ["appSecrets", "backupEncryptionKey", "brokerUrl", "cacheUrl", "databasePassword"], { cacheUrl: "redis://:fleetdemo-redis-password-value@198.18.0.10:6379/1" }],
    ["memcached: its URL holds no password, so it is plain", memcachedConfig,
      ["appSecrets", "brokerUrl", "databasePassword"],
      { cacheUrl: "memcached://198.18.0.10:11211", cache: { kind: "memcached", host: "198.18.0.10", port: 11211, redisDb: null } }],
  ];

  const leaves = (v: unknown): unknown[] => Array.isArray(v) ? v.flatMap(leaves)
    : typeof v === "object" && v !== null ? Object.values(v).flatMap(leaves) : [v];

  for (const [name, config, secret, values] of cases) {
    it(name, async () => {
      const run = await runProgram(config());
      expect(run.error).toBeUndefined();
      const m = run.module!;
      expect(Object.keys(m).sort()).toEqual(EXPORTS);
      const secrecy = await Promise.all(EXPORTS.map(async (k) => [k, await pulumi.isSecret(pulumi.output(m[k]))] as const));
      expect(secrecy.filter(([, s]) => s).map(([k]) => k)).toEqual(secret);
      // The generated secrets (the mocks' RandomSecret values).
      const generated = run.all(T.secret).map((r) => `${r.name}-value`);
      expect(generated.length).toBeGreaterThan(0);
      const carriesSecret = (x: unknown) => typeof x === "string" && generated.some((g) => x.includes(g));
      for (const k of EXPORTS) {
        const found = leaves(await valueOf(m[k]));
        if (secret.includes(k)) {
          expect(found.length, k).toBeGreaterThan(0);
          for (const x of found) expect(carriesSecret(x), `${k}: the plain value ${JSON.stringify(x)} is inside a secret output`).toBe(true);
        } else {
          for (const x of found) expect(carriesSecret(x), `${k}: a secret inside a plain output`).toBe(false);
        }
      }
      for (const [k, v] of Object.entries(values)) expect(await valueOf(m[k]), k).toEqual(v);
      // Each app: the same names in both, the plain facts and the credentials.
      const apps = await valueOf<Record<string, object>>(m.apps);
      const creds = await valueOf<Record<string, object>>(m.appSecrets);
      expect(Object.keys(creds)).toEqual(Object.keys(apps));
      for (const a of Object.values(apps)) expect(Object.keys(a).sort()).toEqual(["brokerRedisDb", "brokerVhost", "database", "deployedCommit", "hosts", "port", "url"]);
      // The uploads' backup key where they are backed up (on one host, on disk, with backups).
      const mediaKey = secret.includes("backupEncryptionKey") ? ["mediaBackupKey"] : [];
      for (const c of Object.values(creds)) expect(Object.keys(c).sort()).toEqual(["brokerUrl", "databasePassword", ...mediaKey]);
    });
  }
});

/**
 * The resource graph of each config above, as golden files (test/unit/golden/program-graph-
 * <case>.txt): every resource's URN, its parent and its dependencies in the order the engine
 * receives them, then every stack output and whether it is secret. It pins what a refactor
 * of the program must keep (issue 24): a resource renamed, re-parented or re-ordered
 * changes a URN or a dependency here, and an existing stack would see a replace or a new
 * order. The last cases cover wiring no other case reaches: MariaDB and PostgreSQL
 * replicas, a cache host, object stores with their own CAs.
 */
describe("resource graph per config (golden): URNs, parents, dependencies, outputs", () => {
  const withCas = (cfg: Record<string, unknown>, backupCa: string, mediaCa: string) => ({
    ...cfg,
    backup: { target: { ...S3_TARGET, bucket: "fleet-backups", caFile: pemFile(backupCa) } },
    media: { storage: "s3", target: { ...S3_TARGET, caFile: pemFile(mediaCa) } },
  });
  const h = splitHost;
  const cases: Array<[string, () => Record<string, unknown>]> = [
    ["dev", devConfig],
    ["split", splitConfig],
    ["backups", backupsConfig],
    ["two-apps", () => twoAppsConfig([fleetdemoApp(), blogApp()])],
    ["one-of-two-apps", () => twoAppsConfig([blogApp()])],
    ["two-apps-backed-up", twoAppsBackedUpConfig],
    ["acme", acmeConfig],
    ["redis-cache-shared", sharedRedisCacheConfig],
    ["redis-cache-own", ownRedisCacheConfig],
    ["memcached", memcachedConfig],
    ["postgresql-replicas-cas", () => withCas({
      ...splitConfig(),
      hosts: [...(splitConfig().hosts as unknown[]), h("replica1", 18, ["dbReplica"]), h("replica2", 19, ["dbReplica"])],
    }, "backup-ca.pem", "media-ca.pem")],
    ["mariadb-replica-cache-host-one-ca", () => withCas({
      ...twoAppsConfig([fleetdemoApp()]),
      hosts: [h("web", 20, ["loadBalancer", "app", "worker", "beat", "broker", "logging"]), h("db", 21, ["db"]), h("db2", 22, ["dbReplica"]), h("cache", 23, ["cache"])],
      database: { engine: "mariadb" }, broker: { kind: "redis" }, cache: { kind: "redis" },
    }, "object-store-ca.pem", "object-store-ca.pem")],
  ];

  /** The run as text: values that change between runs (the test folder, the commit) masked. */
  async function graph(run: Run): Promise<string> {
    const mask = (t: string) => t.split(dir).join("<dir>").split(commit).join("<commit>");
    const urn = urnOf;
    const resources = run.resources.map((r) => [urn(r), `  parent ${r.options?.parent || "(none)"}`, ...(r.options?.dependencies ?? []).map((d) => `  after ${d}`)].join("\n")).sort();
    const outputs = await Promise.all(Object.keys(run.module ?? {}).sort().map(async (k) => {
      const o = pulumi.output(run.module![k] as pulumi.Input<unknown>);
      return `${k}${await pulumi.isSecret(o) ? " (secret)" : ""} = ${JSON.stringify(await valueOf(o))}`;
    }));
    return mask([...resources, "", ...outputs, ""].join("\n"));
  }

  for (const [name, config] of cases) {
    it(name, async () => {
      const run = await runProgram(config());
      expect(run.error).toBeUndefined();
      expectGolden(`program-graph-${name}`, await graph(run));
      // The plan's order (plan/order.ts) holds every dependency between hosts and stages.
      expect(outOfOrder(run.resources, config(), plain)).toEqual([]);
    });
  }
});
