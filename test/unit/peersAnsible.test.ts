/**
 * The Ansible peer (bench/peers/ansible/): the project holds every rendered file byte for
 * byte, the playbook is the data it was made from (read back by PyYAML, Ansible's own
 * parser), its tasks are the ones a good Ansible user writes (one apt task, a copy task
 * per file, handlers that exist), and `ansible-playbook --syntax-check` accepts it when
 * scripts/setup has installed ansible-core (bench/peers/ansible/install.ts's folder, or
 * PEERS_ANSIBLE_PLAYBOOK). Without it these tests fail and say to run scripts/setup.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeAnsibleProject } from "../../bench/peers/ansible/index.ts";
import { ANSIBLE_CORE_VERSION, ansibleDir } from "../../bench/peers/ansible/install.ts";
import { projectFilePath } from "../../bench/peers/ansible/fileTasks.ts";
import { playbookData } from "../../bench/peers/ansible/playbook.ts";
import { ansibleProject, secretVars } from "../../bench/peers/ansible/project.ts";
import { toYaml, type Yaml } from "../../bench/peers/ansible/yaml.ts";
import { renderPeerFleet, renderPeerStack } from "../../bench/peers/render.ts";
import type { Role } from "../../config/schema.ts";
import { rabbitAccountCheck, rabbitAccountCreate } from "../../lib/rabbitAccount.ts";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const SECRETS = { djangoSecretKey: `k'e"y$x{{ x }}`, dbPassword: `db'pw"{{ 1 }}`, brokerPassword: `br"pw'` };
const stack = renderPeerStack({
  host: { name: "peer-ansible", address: "198.18.0.12", hostKey: HOST_KEY },
  commit: "0123456789abcdef0123456789abcdef01234567", secrets: SECRETS,
});
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** ansible-playbook as scripts/setup installs it. */
const ansiblePlaybook = process.env.PEERS_ANSIBLE_PLAYBOOK ?? join(ansibleDir(), "bin", "ansible-playbook");
/** The Python Ansible itself runs on, with its PyYAML. */
const pyyaml = join(dirname(ansiblePlaybook), "python3");

function needAnsible(): void {
  if (!existsSync(ansiblePlaybook)) throw new Error(`${ansiblePlaybook} is missing: run bash scripts/setup (it installs ansible-core ${ANSIBLE_CORE_VERSION})`);
}

function yamlLoad(text: string): unknown {
  needAnsible();
  const r = spawnSync(pyyaml, ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))"], { input: text, encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

type Task = Record<string, unknown>;

/** Writes the project into a fresh folder, passes `--syntax-check` (no error, no warning), and returns a runner of ansible-playbook there. */
function syntaxChecked(plan: Parameters<typeof writeAnsibleProject>[0]): { dir: string; playbook: (arg: string) => SpawnSyncReturns<string> } {
  needAnsible();
  const parent = mkdtempSync(join(tmpdir(), "fleet-peer-ansible-test-"));
  dirs.push(parent);
  const r = writeAnsibleProject(plan, { privateKeyPath: "/nonexistent/id", ansiblePlaybook, dir: join(parent, "p") });
  const env = { ...process.env, ...r.env };
  const playbook = (arg: string) => spawnSync(r.argv[0]!, [...r.argv.slice(1), arg], { cwd: r.dir, env, encoding: "utf8" });
  const check = playbook("--syntax-check");
  expect(check.stderr).not.toMatch(/ERROR|WARNING/);
  expect(check.status, check.stderr).toBe(0);
  return { dir: r.dir, playbook };
}
const tasks = () => (playbookData(stack) as Array<{ tasks: Task[]; handlers: Task[] }>)[0]!;

describe("the Ansible project", () => {
  const files = ansibleProject(stack, { dir: "/p", privateKeyPath: "/k/id" });

  it("holds every rendered file byte for byte; what holds a secret is 0600", () => {
    for (const f of stack.files) {
      const p = files.find((x) => x.path === projectFilePath(stack.host.name, f.path));
      expect(p?.content, f.path).toBe(f.content);
      expect(p?.mode, f.path).toBe(f.secret ? 0o600 : 0o644);
    }
    expect(files.find((f) => f.path === "vars/secrets.yml")!.mode).toBe(0o600);
  });

  it("turns pipelining and ControlPersist on, gathers no facts, and pins the host key", () => {
    const cfg = files.find((f) => f.path === "ansible.cfg")!.content;
    expect(cfg).toMatch(/^pipelining = True$/m);
    expect(cfg).toMatch(/ControlPersist=60s/);
    expect(cfg).toMatch(/^gathering = explicit$/m);
    expect(cfg).toMatch(/StrictHostKeyChecking=yes -o UserKnownHostsFile=\/p\/known_hosts/);
    expect(files.find((f) => f.path === "known_hosts")!.content).toBe(`198.18.0.12 ${HOST_KEY}\n`);
    expect((playbookData(stack) as Array<Record<string, unknown>>)[0]!.gather_facts).toBe(false);
  });

  it("installs the package list in one apt task", () => {
    const apt = tasks().tasks.filter((t) => "ansible.builtin.apt" in t);
    expect(apt).toHaveLength(1);
    expect((apt[0]!["ansible.builtin.apt"] as { name: string[] }).name).toEqual(stack.packages);
  });

  it("copies each rendered file once, with its mode and owner, hiding the env file", () => {
    const copies = tasks().tasks.filter((t) => "ansible.builtin.copy" in t);
    expect(copies.map((t) => (t["ansible.builtin.copy"] as { dest: string }).dest).sort()).toEqual(stack.files.map((f) => f.path).sort());
    for (const t of copies) {
      const c = t["ansible.builtin.copy"] as { src: string; dest: string; mode: string; owner: string; group: string };
      const f = stack.files.find((x) => x.path === c.dest)!;
      expect(c).toEqual({ src: projectFilePath("{{ inventory_hostname }}", f.path), dest: f.path, mode: f.mode, owner: f.owner, group: f.group });
      expect(t.no_log === true).toBe(f.secret);
    }
  });

  it("makes each folder a file is copied into, unless a package or the app's layout made it", () => {
    const packageDirs = ["/etc/systemd/system", "/etc/rsyslog.d", "/etc/logrotate.d", "/etc/nginx/sites-enabled", "/etc/nginx/sites-available",
      "/etc/rabbitmq", "/etc/postgresql/17/main", "/etc/postgresql/17/main/conf.d"];
    const made = new Set<string>(packageDirs);
    for (const t of tasks().tasks) {
      const file = t["ansible.builtin.file"] as { path: string; state?: string } | undefined;
      if (file?.state === "directory") for (const p of file.path === "{{ item }}" ? t.loop as string[] : file.path === "{{ item.path }}" ? (t.loop as Array<{ path: string }>).map((x) => x.path) : [file.path]) made.add(p);
      const copy = t["ansible.builtin.copy"] as { dest: string } | undefined;
      if (copy) expect(made.has(copy.dest.slice(0, copy.dest.lastIndexOf("/"))), copy.dest).toBe(true);
    }
  });

  it("notifies only handlers that exist, and keeps every unit of the dev stack enabled and running", () => {
    const { tasks: ts, handlers } = tasks();
    const names = new Set(handlers.map((h) => h.name));
    for (const t of ts) for (const n of (t.notify as string[] | undefined) ?? []) expect(names.has(n), `${String(t.name)} -> ${n}`).toBe(true);
    const units = stack.steps.flatMap((s) => s.kind === "service" ? [s.unit] : []);
    const kept = ts.flatMap((t) => {
      const s = t["ansible.builtin.systemd_service"] as { name?: string; state?: string; enabled?: boolean } | undefined;
      return s?.state === "started" && s.enabled ? [s.name] : [];
    });
    expect(kept.sort()).toEqual([...units].sort());
  });

  it("restarts a unit only after every file it reads is written (a flush runs every pending handler)", () => {
    const { tasks: ts, handlers } = tasks();
    const handlerUnit = new Map(handlers.map((h) => [h.name as string, (h["ansible.builtin.systemd_service"] as { name?: string }).name]));
    const pending = new Set<string>();
    const written = new Set<string>();
    for (const t of ts) {
      const copy = t["ansible.builtin.copy"] as { dest: string } | undefined;
      if (copy) written.add(copy.dest);
      for (const n of (t.notify as string[] | undefined) ?? []) pending.add(n);
      if (t["ansible.builtin.meta"] === "flush_handlers") {
        for (const n of pending) {
          const unit = handlerUnit.get(n);
          if (unit?.startsWith("fleetdemo-")) expect(written.has(`/etc/systemd/system/${unit}`), `${n} before its unit file`).toBe(true);
        }
        pending.clear();
      }
    }
    expect(pending.size).toBe(0);
  });

  it("keeps the secrets out of the playbook and its logs", () => {
    const site = files.find((f) => f.path === "site.yml")!.content;
    for (const s of Object.values(SECRETS)) expect(site).not.toContain(s);
    for (const t of tasks().tasks) {
      if (JSON.stringify(t).includes("_password")) expect(t.no_log, String(t.name)).toBe(true);
    }
  });

  it("site.yml and vars/secrets.yml read back (PyYAML) as the data they were written from", () => {
    expect(yamlLoad(files.find((f) => f.path === "site.yml")!.content)).toEqual(JSON.parse(JSON.stringify(playbookData(stack))));
    expect(yamlLoad(files.find((f) => f.path === "vars/secrets.yml")!.content)).toEqual({ db_password: SECRETS.dbPassword, broker_password: SECRETS.brokerPassword });
  });

  it("sets the RabbitMQ account with the program's scripts, on bash's stdin, the password on no command line", () => {
    const broker = tasks().tasks.filter((t) => String(t.name).startsWith("RabbitMQ"));
    const cmds = broker.map((t) => t["ansible.builtin.command"] as string | { argv: string[]; stdin?: string });
    for (const c of cmds) expect(typeof c === "string" ? c : c.argv.join(" ")).not.toMatch(/password|add_user|change_password/);
    const scripts = cmds.flatMap((c) => typeof c === "string" || c.stdin === undefined ? [] : [c]);
    expect(scripts.map((c) => c.argv)).toEqual([["bash", "-euo", "pipefail", "-s"], ["bash", "-euo", "pipefail", "-s"]]);
    // What bash reads, as Ansible templates it from the project's vars (tee stands in for bash).
    needAnsible();
    const d = mkdtempSync(join(tmpdir(), "fleet-peer-ansible-stdin-"));
    dirs.push(d);
    writeFileSync(join(d, "secrets.yml"), secretVars(stack), { mode: 0o600 });
    writeFileSync(join(d, "play.yml"), toYaml([{
      hosts: "localhost", connection: "local", gather_facts: false, vars_files: ["secrets.yml"],
      // The modules run on the Python Ansible runs on (this machine's default may be none).
      vars: { ansible_python_interpreter: pyyaml },
      tasks: scripts.map((c, i) => ({ "ansible.builtin.command": { argv: ["tee", join(d, `stdin-${i}`)], stdin: c.stdin! }, no_log: true })),
    }]));
    const r = spawnSync(ansiblePlaybook, ["-i", "localhost,", "play.yml"], {
      cwd: d, encoding: "utf8", env: { ...process.env, ANSIBLE_HOME: join(d, ".ansible"), ANSIBLE_LOCAL_TEMP: join(d, ".ansible", "tmp"), ANSIBLE_NOCOLOR: "1" },
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const user = stack.steps.find((s) => s.kind === "brokerAccount")!;
    const name = user.kind === "brokerAccount" ? user.user : "";
    [rabbitAccountCheck(name), rabbitAccountCreate(name)].forEach((body, i) => {
      const got = readFileSync(join(d, `stdin-${i}`), "utf8");
      const [first, ...rest] = got.split("\n");
      // The program's script, byte for byte (Jinja left it alone), after one assignment...
      expect(rest.join("\n")).toBe(`${body}\n`);
      // ...that gives bash exactly the password.
      const pw = spawnSync("bash", ["-euo", "pipefail", "-c", `${first}\nprintf '%s' "$BROKER_PASSWORD"`], { encoding: "utf8" });
      expect(pw.stdout).toBe(SECRETS.brokerPassword);
    });
  }, 60_000);

  it(`ansible-playbook (${ANSIBLE_CORE_VERSION}) accepts the project: --syntax-check, --list-tasks`, () => {
    const r = syntaxChecked(stack);
    expect(statSync(r.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(r.dir, projectFilePath(stack.host.name, "/etc/fleetdemo/env"))).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(r.dir, projectFilePath(stack.host.name, "/etc/fleetdemo/env")), "utf8")).toBe(stack.files.find((f) => f.id === "env")!.content);
    const list = r.playbook("--list-tasks");
    expect(list.status, list.stderr).toBe(0);
    const listed = list.stdout.split("\n").filter((l) => /^ {6}\S.*\tTAGS: \[\]$/.test(l)).length;
    expect(listed).toBe(tasks().tasks.length);
  }, 60_000);
});

describe("the Ansible project of a core host and app hosts (part 4)", () => {
  const core = { name: "core", address: "198.18.0.2", hostKey: HOST_KEY, roles: ["loadBalancer", "worker", "beat", "db", "broker", "logging"] as Role[] };
  const apps = [21, 22, 23].map((n) => ({ name: `app${n - 20}`, address: `198.18.0.${n}`, hostKey: HOST_KEY, roles: ["app"] as Role[] }));
  const media = { target: { endpoint: "https://198.18.0.1:9000", bucket: "fleet-media", pathStyle: true, accessKeyId: "AKIDEXAMPLE", secretAccessKey: "s3-secret'{{x}}" } };
  const fleet = renderPeerFleet({ hosts: [core, ...apps], commit: "0123456789abcdef0123456789abcdef01234567", secrets: SECRETS, media });
  const files = ansibleProject(fleet, { dir: "/p", privateKeyPath: "/k/id" });
  const plays = playbookData(fleet) as Array<{ hosts: string; tasks: Task[]; handlers: Task[] }>;

  it("plays the waves: every host's baseline and services in one free play, app1 (it migrates), the other app hosts together, then the core's code, Celery and nginx", () => {
    expect(plays.map((p) => p.hosts)).toEqual(["core:app1:app2:app3", "app1", "app2:app3", "core"]);
    // Unlike hosts share a play without waiting for each other's every task.
    expect(plays.map((p) => (p as { strategy?: string }).strategy)).toEqual(["free", undefined, undefined, undefined]);
    const inv = files.find((f) => f.path === "inventory.ini")!.content;
    expect(inv).toMatch(/^\[app\]\napp1 ansible_host="198\.18\.0\.21" .*private_address="198\.18\.0\.21"\napp2 .*\napp3 /m);
    expect(files.find((f) => f.path === "ansible.cfg")!.content).toMatch(/^forks = 5$/m);
    expect(files.find((f) => f.path === "known_hosts")!.content.split("\n").filter(Boolean)).toHaveLength(4);
  });

  it("the app hosts' play names each host's address by variable, never one host's", () => {
    const app = JSON.stringify(plays[2]);
    expect(app).toContain("\"url\":\"http://{{ private_address }}:8000/\"");
    for (const a of [...apps, core]) expect(app).not.toContain(a.address);
    // The core's address is the database's and broker's: in the files, not in the tasks.
    expect(JSON.stringify(plays[0])).not.toContain("198.18.0.21");
  });

  it("holds each host's files under its name, byte for byte", () => {
    for (const st of fleet.stacks) {
      for (const f of st.files) expect(files.find((x) => x.path === projectFilePath(st.host.name, f.path))?.content, `${st.host.name} ${f.path}`).toBe(f.content);
    }
    expect(files.filter((f) => f.path.startsWith("files/")).length).toBe(fleet.stacks.reduce((n, st) => n + st.files.length, 0));
  });

  it("keeps every secret, the object store's key too, out of the playbook", () => {
    const site = files.find((f) => f.path === "site.yml")!.content;
    for (const v of fleet.secretValues) expect(site).not.toContain(v);
  });

  it("migrates on one app host only, before the others switch", () => {
    const migrates = plays.map((p) => p.tasks.filter((t) => t.name === "manage.py migrate").length);
    expect(migrates).toEqual([0, 1, 0, 0]);
    expect(plays[1]!.hosts).toBe("app1");
  });

  it("a task only some hosts of a play run names them; the others' tasks are shared", () => {
    const first = plays[0]!.tasks;
    // The host condition comes first, before a task's own.
    const hostsOf = (t: Task) => Array.isArray(t.when) ? t.when[0] : t.when;
    const core = "inventory_hostname == \"core\"";
    expect(first.filter((t) => hostsOf(t) === core).map((t) => t.name)).toEqual(expect.arrayContaining(["PostgreSQL database fleetdemo", "packages (16)"]));
    expect(first.filter((t) => hostsOf(t) === undefined).map((t) => t.name)).toEqual(expect.arrayContaining(["rsyslog.service enabled and running"]));
    // The three app hosts' tasks are alike: each of theirs is shared, or theirs alone.
    for (const t of first) if (![undefined, core].includes(hostsOf(t) as string | undefined)) expect(hostsOf(t)).toBe("inventory_hostname in [\"app1\",\"app2\",\"app3\"]");
    expect(first.filter((t) => hostsOf(t) === "inventory_hostname in [\"app1\",\"app2\",\"app3\"]").map((t) => t.name)).toEqual(["packages (13)"]);
  });

  it(`ansible-playbook (${ANSIBLE_CORE_VERSION}) accepts it: --syntax-check, --list-hosts`, () => {
    const list = syntaxChecked(fleet).playbook("--list-hosts");
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout.match(/hosts \(\d+\)/g)).toEqual(["hosts (4)", "hosts (1)", "hosts (2)", "hosts (1)"]);
  }, 60_000);
});

describe("the YAML writer", () => {
  const tricky: Yaml = {
    plain: "ansible.builtin.copy",
    words: ["yes", "no", "on", "off", "true", "null", "~", "y", "N", "0644", "1.0", "-x", "a: b", "# c", "{{ x }}", "", " lead", "trail ", "@at", "x #y"],
    text: "line one\n  indented\n\nlast\n",
    noNewline: "a\nb",
    manyNewlines: "a\n\n\n",
    leadingSpace: "  first\nsecond\n",
    quotes: `it's "quoted" \\ back`,
    unicode: "naïve \u2028 sep \u00a0 nbsp",
    control: "tab\there\r\n",
    numbers: [0, 1.5, -3],
    flags: [true, false, null],
    empty: { list: [], map: {} },
    nested: [{ a: 1, b: [{ c: "d" }] }, [1, 2]],
    "key with space": 1,
    "yes": "reserved key",
  };

  it("writes YAML that PyYAML reads back as the same data", () => {
    expect(yamlLoad(toYaml(tricky))).toEqual(JSON.parse(JSON.stringify(tricky)));
  });

  it("writes block style, a document marker, and one final newline", () => {
    const out = toYaml({ a: ["x", { b: "c" }] });
    expect(out).toBe("---\na:\n  - x\n  - b: c\n");
  });
});
