/**
 * The Ansible peer: the dev stack as a playbook, written the way a good Ansible user
 * writes one, over the files our templates render (so only the engine differs):
 *
 * - one `apt` task with the package list; `copy` tasks for the rendered files (our
 *   templates render them; Jinja would only add a second renderer to disagree with);
 * - `systemd_service` tasks keep the units enabled and running, and handlers restart or
 *   reload them when what they read changed, flushed before anything depends on them;
 * - `group`, `user`, `file` for the app's account and folders, `git` for the checkout;
 * - idempotent `command` tasks with `creates` / `changed_when` / `failed_when` for the
 *   database and role, the RabbitMQ vhost and user, the virtualenv, migrate and
 *   collectstatic (the community.postgresql and pip modules would need psycopg2 and
 *   setuptools on the host, which the dev stack does not install);
 * - SSH pipelining and ControlPersist on, facts not gathered (nothing here needs them);
 * - for a fleet, a play per wave (render.ts) and set of roles: the app hosts share one
 *   play (each host's files under files/<host>/, its address as a host variable), so
 *   Ansible works on them side by side, with forks for every host.
 *
 * Pure: the project is returned as files (path relative to the project folder, content,
 * mode); install.ts installs ansible-core and index.ts writes the project and runs it.
 */
import type { HostPlan } from "../../../config/topology.ts";
import { BROKER_PASSWORD_VAR, rabbitAccountCheck, rabbitAccountCreate } from "../../../lib/rabbitAccount.ts";
import { knownHostsLine } from "../bash.ts";
import { fileById, planOf, type PeerPlan, type PeerStack, type ReleaseStep, type ServiceStep, type Step, type UserStep } from "../render.ts";
import { toYaml, type Yaml } from "./yaml.ts";

/** One file of the project. */
export interface ProjectFile {
  readonly path: string;
  readonly content: string;
  /** 0o600 for what holds secrets. */
  readonly mode: number;
}

export interface ProjectOptions {
  /** The project folder on this machine (ansible.cfg names paths in it). */
  readonly dir: string;
  /** The SSH private key's path on this machine. */
  readonly privateKeyPath: string;
}

type Task = { readonly [key: string]: Yaml | undefined };

const B = "ansible.builtin";

/** Where a host's rendered file sits in the project (`copy` reads it from there). */
export function projectFilePath(host: string, path: string): string {
  return `files/${host}${path}`;
}

function handlerNames(stack: PeerStack, id: string): string[] {
  const services = stack.steps.filter((s): s is ServiceStep => s.kind === "service");
  return [
    ...(services.some((s) => s.ownUnitFile === id) ? ["reload systemd"] : []),
    ...services.filter((s) => s.reloadOn.includes(id)).map((s) => `reload ${s.unit}`),
    ...services.filter((s) => s.restartOn.includes(id)).map((s) => `restart ${s.unit}`),
  ];
}

function notify(stack: PeerStack, id: string): { notify?: string[] } {
  const names = handlerNames(stack, id);
  return names.length ? { notify: names } : {};
}

/** The handlers, in the order Ansible runs them: systemd re-reads units first; a reload before a restart. */
function handlers(stack: PeerStack): Task[] {
  const services = stack.steps.filter((s): s is ServiceStep => s.kind === "service");
  return [
    { name: "reload systemd", [`${B}.systemd_service`]: { daemon_reload: true } },
    ...services.flatMap((s) => [
      ...(s.reloadOn.length ? [{ name: `reload ${s.unit}`, [`${B}.systemd_service`]: { name: s.unit, state: "reloaded" } }] : []),
      ...(s.restartOn.length ? [{ name: `restart ${s.unit}`, [`${B}.systemd_service`]: { name: s.unit, state: "restarted" } }] : []),
    ]),
  ];
}

const flush: Task = { name: "apply pending restarts and reloads", [`${B}.meta`]: "flush_handlers" };

function asApp(stack: PeerStack): { become: true; become_user: string } {
  return { become: true, become_user: stack.app.user };
}

/** The manage.py argv, with the units' environment file (as the units and django-fleet run it). */
function manageArgv(stack: PeerStack, source: string, venv: string, args: string[]): string[] {
  return [
    "systemd-run", "--quiet", "--wait", "--pipe", "--collect",
    "-p", `User=${stack.app.user}`, "-p", `Group=${stack.app.user}`,
    "-p", `EnvironmentFile=${stack.app.envFile}`, "-p", `WorkingDirectory=${source}`,
    `${venv}/bin/python`, "manage.py", ...args,
  ];
}

function releaseTasks(stack: PeerStack, s: ReleaseStep): Task[] {
  const n = notify(stack, "release");
  const v = s.virtualenv;
  const home = stack.steps.find((x): x is UserStep => x.kind === "user")!.home;
  if (v.method !== "pip" || !v.requirementsFile) throw new Error(`the Ansible peer installs with pip from a requirements file; this project uses ${v.method}`);
  return [
    {
      name: `folder of release ${s.releaseId}`,
      [`${B}.file`]: { path: s.checkout.dir, state: "directory", owner: s.user, group: s.user, mode: "0750" },
    },
    {
      name: `checkout of ${s.checkout.commit}`,
      [`${B}.git`]: { repo: s.checkout.repo, dest: s.checkout.source, version: s.checkout.commit },
      ...asApp(stack), ...n,
    },
    {
      name: "virtualenv",
      [`${B}.command`]: { argv: ["python3", "-m", "venv", "--", v.venv], creates: `${v.venv}/bin/python` },
      ...asApp(stack),
    },
    {
      name: `Python packages from ${v.requirementsFile}`,
      [`${B}.command`]: {
        argv: [`${v.venv}/bin/pip`, "install", "--progress-bar", "off", ...(v.requireHashes ? ["--require-hashes"] : []), "-r", v.requirementsFile],
        chdir: s.checkout.source,
      },
      environment: { HOME: home, PIP_CACHE_DIR: v.pipCache, PIP_DISABLE_PIP_VERSION_CHECK: "1" },
      register: "pip_install",
      changed_when: "'Successfully installed' in pip_install.stdout",
      ...asApp(stack), ...n,
    },
    {
      name: "release built",
      [`${B}.file`]: { path: s.builtMarker, state: "touch", owner: s.user, group: s.user, mode: "0644", modification_time: "preserve", access_time: "preserve" },
    },
    {
      name: `current release is ${s.releaseId}`,
      [`${B}.file`]: { src: s.current.target, dest: s.current.link, state: "link" },
      ...n,
    },
  ];
}

/**
 * Folders the Debian packages of the dev stack make (and systemd's): a file copied into
 * one needs no folder task. `copy` makes no folder; django-fleet's RemoteFile makes a
 * missing one 0755, as `file` does here.
 */
const PACKAGE_DIRS = [/^\/etc\/systemd\/system$/, /^\/etc\/rsyslog\.d$/, /^\/etc\/logrotate\.d$/, /^\/etc\/nginx\/sites-(?:enabled|available)$/,
  /^\/etc\/rabbitmq$/, /^\/etc\/postgresql\/\d+\/main(?:\/conf\.d)?$/];

function parentDir(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/** The rendered files of one step, each copied with its mode and owner; the env file without showing its content. */
function fileTasks(stack: PeerStack, ids: readonly string[]): Task[] {
  const layout = stack.steps.find((x): x is UserStep => x.kind === "user");
  const made = new Set(layout?.dirs.map((d) => d.path) ?? []);
  const dirs = [...new Set(ids.map((id) => parentDir(fileById(stack, id).path)))]
    .filter((d) => !made.has(d) && !PACKAGE_DIRS.some((re) => re.test(d)));
  const folders: Task[] = dirs.length === 0 ? [] : [{
    name: `folder${dirs.length > 1 ? "s" : ""} ${dirs.join(", ")}`,
    [`${B}.file`]: dirs.length === 1 ? { path: dirs[0]!, state: "directory" } : { path: "{{ item }}", state: "directory" },
    ...(dirs.length > 1 ? { loop: dirs } : {}),
  }];
  return [...folders, ...ids.map((id) => {
    const f = fileById(stack, id);
    return {
      name: f.path,
      [`${B}.copy`]: { src: projectFilePath("{{ inventory_hostname }}", f.path), dest: f.path, owner: f.owner, group: f.group, mode: f.mode },
      ...(f.secret ? { no_log: true } : {}),
      ...notify(stack, id),
    };
  })];
}

function ensureRunning(s: ServiceStep): Task {
  return { name: `${s.unit} enabled and running`, [`${B}.systemd_service`]: { name: s.unit, enabled: true, state: "started" } };
}

/** The tasks of one step. Services are applied at their step: pending handlers run, then the unit is kept running. */
function tasks(stack: PeerStack, s: Step, flushHere: boolean): Task[] {
  switch (s.kind) {
    case "packages":
      return [{
        name: `packages (${s.packages.length})`,
        [`${B}.apt`]: {
          name: [...s.packages], state: "present", install_recommends: false,
          update_cache: true, cache_valid_time: 3600, dpkg_options: "force-confold",
        },
      }];
    case "files":
      return fileTasks(stack, s.files);
    case "service": {
      const r = s.readyCheck;
      return [
        ...(flushHere ? [flush] : []),
        ensureRunning(s),
        ...(r && !r.http ? [{
          name: `${s.unit} answers on port ${r.port}`,
          [`${B}.wait_for`]: { host: r.host ?? "127.0.0.1", port: r.port, timeout: 30 },
        }] : []),
      ];
    }
    case "user": {
      const n = notify(stack, "user");
      return [
        { name: `group ${s.group}`, [`${B}.group`]: { name: s.group, system: true } },
        {
          name: `user ${s.user}`,
          [`${B}.user`]: { name: s.user, group: s.group, system: true, home: s.home, create_home: false, shell: s.shell },
          ...n,
        },
        {
          name: "folders of the app",
          [`${B}.file`]: { path: "{{ item.path }}", state: "directory", owner: "{{ item.owner }}", group: "{{ item.group }}", mode: "{{ item.mode }}" },
          loop: s.dirs.map((d) => ({ path: d.path, owner: d.owner, group: d.group, mode: d.mode })),
        },
      ];
    }
    case "database": {
      const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
      const asPostgres = { become: true, become_user: "postgres" };
      return [
        {
          name: `PostgreSQL role ${s.owner}`,
          [`${B}.command`]: {
            argv: ["psql", "-XAt", "-v", "ON_ERROR_STOP=1"], chdir: "/",
            stdin: `SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', ${lit(s.owner)}, {{ "'" ~ (db_password | replace("'", "''")) ~ "'" }}) `
              + `WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${lit(s.owner)}) \\gexec`,
          },
          register: "db_role",
          changed_when: "'CREATE ROLE' in db_role.stdout",
          no_log: true,
          ...asPostgres,
        },
        {
          name: `PostgreSQL database ${s.database}`,
          [`${B}.command`]: { argv: ["createdb", "-O", s.owner, "-E", "UTF8", "-T", "template0", "--", s.database], chdir: "/" },
          register: "db_create",
          failed_when: "db_create.rc != 0 and 'already exists' not in db_create.stderr",
          changed_when: "db_create.rc == 0",
          ...asPostgres,
        },
        {
          name: `only ${s.owner} may connect to ${s.database}`,
          [`${B}.command`]: { argv: ["psql", "-Xq", "-v", "ON_ERROR_STOP=1", "-c", `REVOKE CONNECT ON DATABASE "${s.database}" FROM PUBLIC`], chdir: "/" },
          when: "db_create is changed",
          ...asPostgres,
        },
      ];
    }
    case "brokerAccount": {
      // The program's own check and create (lib/rabbitAccount.ts), so the password is on no
      // command line: rabbitmqctl gets only its hash, in a file. bash reads the script on
      // stdin, the password assigned at its top from the vars; `environment:` would not do,
      // as Ansible prefixes the module's remote command line with it. The script's own
      // text is kept from Jinja (`${#hex}` opens a Jinja comment).
      if (s.vhost !== s.user) throw new Error(`broker account: vhost ${s.vhost} is not the user's name ${s.user}, which lib/rabbitAccount.ts assumes`);
      const bash = (body: string) => {
        if (body.includes("{% endraw %}")) throw new Error("a RabbitMQ script holds {% endraw %}");
        return { argv: ["bash", "-euo", "pipefail", "-s"], chdir: "/", stdin: `${BROKER_PASSWORD_VAR}={{ broker_password | quote }}\n{% raw %}${body}{% endraw %}` };
      };
      const names = (v: string) => `(${v}.stdout_lines | map('regex_replace', '\\s.*$', '') | list)`;
      return [
        {
          name: `RabbitMQ holds the password and rights of ${s.user}`,
          [`${B}.command`]: bash(rabbitAccountCheck(s.user)),
          register: "rabbit_account",
          failed_when: false,
          changed_when: false,
          no_log: true,
        },
        {
          name: `RabbitMQ vhost ${s.vhost} and user ${s.user}`,
          [`${B}.command`]: bash(rabbitAccountCreate(s.user)),
          when: "rabbit_account.rc != 0",
          no_log: true,
        },
        ...(s.deleteUsers.length ? [{ name: "RabbitMQ users", [`${B}.command`]: "rabbitmqctl -q list_users", register: "rabbit_users", changed_when: false }] : []),
        ...s.deleteUsers.map((u) => ({
          name: `no RabbitMQ user ${u}`,
          [`${B}.command`]: { argv: ["rabbitmqctl", "-q", "delete_user", u] },
          when: `${JSON.stringify(u)} in ${names("rabbit_users")}`,
        })),
      ];
    }
    case "release":
      return releaseTasks(stack, s);
    case "manage": {
      const reg = s.id.replace(/[^a-z]/g, "_");
      return [{
        name: `manage.py ${s.id}`,
        [`${B}.command`]: { argv: manageArgv(stack, s.source, s.venv, s.id === "migrate" ? ["migrate", "--noinput"] : ["collectstatic", "--noinput"]) },
        register: reg,
        changed_when: s.id === "migrate"
          ? `'No migrations to apply.' not in ${reg}.stdout`
          : `${reg}.stdout is not search('^0 static files copied', multiline=True)`,
      }];
    }
    case "healthGate":
      return [{
        name: `the app answers on ${s.url}`,
        [`${B}.uri`]: {
          url: s.url,
          headers: { Host: s.hostHeader, "X-Forwarded-Proto": "https" },
          follow_redirects: "none",
          status_code: s.status !== undefined ? [s.status] : "{{ range(200, 400) | list }}",
          timeout: 5,
        },
        register: "gate",
        until: "gate is succeeded",
        retries: s.timeoutSeconds,
        delay: 1,
      }];
  }
}

/** The playbook's tasks, in the render's order, with handlers flushed where a unit must be in its new state. */
export function playbookTasks(stack: PeerStack): Task[] {
  const out: Task[] = [];
  const steps = stack.steps;
  for (let n = 0; n < steps.length; n++) {
    const s = steps[n]!;
    // Units of one group (gunicorn, the Celery units, nginx: their files are all written
    // before) flush once, at the first of them: a flush runs every pending handler, and
    // the Celery units must exist by then.
    const flushHere = s.kind === "service" && steps[n - 1]?.kind !== "service" && steps[n - 1]?.kind !== "healthGate";
    out.push(...tasks(stack, s, flushHere));
  }
  return out;
}

/**
 * The render's steps reordered for handlers: every file the app's units read is written
 * before the first of them starts (a flush runs all pending handlers, and a restart of a
 * unit whose file is not written yet would fail).
 */
export function ansibleOrder(stack: PeerStack): Step[] {
  const steps = [...stack.steps];
  const firstApp = steps.findIndex((s) => s.kind === "files" && s.id === "gunicorn-files");
  if (firstApp < 0) return steps;
  const head = steps.slice(0, firstApp);
  const tail = steps.slice(firstApp);
  return [...head, ...tail.filter((s) => s.kind === "files"), ...tail.filter((s) => s.kind !== "files")];
}

/** The inventory group of hosts with these roles (the plays of several hosts name it). */
export function groupName(roles: ReadonlySet<string>): string {
  return [...roles].sort().join("_").toLowerCase();
}

/** A host's tasks with its own address written as the `private_address` variable, so hosts of one role can share a play. */
function generic(st: PeerStack, data: Yaml): string {
  const text = JSON.stringify(data);
  const exactly = (a: string) => new RegExp(`(?<![0-9.])${a.replace(/\./g, "\\.")}(?![0-9])`, "g");
  return st.host.privateAddress === st.host.address || !exactly(st.host.address).test(text)
    ? text.replace(exactly(st.host.privateAddress), "{{ private_address }}")
    : "not shared";
}

/**
 * The tasks of hosts with the same roles as one list, for one play: each host's tasks
 * must be the longest list's, in order, with some left out (the migration runs on the
 * first app host only); a task some hosts skip gets a `when` naming the others.
 * Undefined when the hosts' tasks differ otherwise.
 */
function shared(sts: readonly PeerStack[]): { tasks: Task[]; handlers: Task[] } | undefined {
  const lists = sts.map((st) => playbookTasks({ ...st, steps: ansibleOrder(st) }).map((t) => generic(st, t as Yaml)));
  const full = lists.reduce((a, b) => (b.length > a.length ? b : a));
  const on: string[][] = full.map(() => []);
  for (let h = 0; h < sts.length; h++) {
    let k = 0;
    for (const t of lists[h]!) {
      while (k < full.length && full[k] !== t) k++;
      if (k === full.length) return undefined;
      on[k++]!.push(sts[h]!.host.name);
    }
  }
  const hs = sts.map((st) => generic(st, handlers(st) as Yaml));
  if (hs.some((x) => x !== hs[0])) return undefined;
  const tasks = full.map((t, k) => {
    const task = JSON.parse(t) as Record<string, Yaml>;
    const hosts = on[k]!;
    if (hosts.length === sts.length) return task as Task;
    const only = hosts.length === 1 ? `inventory_hostname == ${JSON.stringify(hosts[0])}` : `inventory_hostname in ${JSON.stringify(hosts)}`;
    return { ...task, when: task.when === undefined ? only : [only, task.when] } as Task;
  });
  return { tasks, handlers: JSON.parse(hs[0]!) as Task[] };
}

/**
 * The plays: one per wave and set of roles, so Ansible runs hosts of one role (the app
 * hosts) side by side; the waves in order.
 */
function plays(plan: PeerPlan): Array<{ hosts: string; tasks: Task[]; handlers: Task[] }> {
  const out: Array<{ hosts: string; tasks: Task[]; handlers: Task[] }> = [];
  for (const wave of plan.waves) {
    const groups = new Map<string, PeerStack[]>();
    for (const st of wave) groups.set(groupName(st.host.roles), [...(groups.get(groupName(st.host.roles)) ?? []), st]);
    for (const [name, sts] of groups) {
      const merged = sts.length > 1 ? shared(sts) : undefined;
      if (merged) {
        const whole = plan.stacks.filter((x) => groupName(x.host.roles) === name).length === sts.length;
        out.push({ hosts: whole ? name : sts.map((x) => x.host.name).join(":"), ...merged });
        continue;
      }
      // One host, or hosts whose tasks differ: a play each.
      for (const st of sts) {
        out.push({
          hosts: st.host.name,
          tasks: playbookTasks({ ...st, steps: ansibleOrder(st) }),
          handlers: handlers(st),
        });
      }
    }
  }
  return out;
}

/** The playbook as data (what site.yml holds). */
export function playbookData(p: PeerStack | PeerPlan): Yaml {
  return plays(planOf(p)).map((play) => ({
    name: `django-fleet's stack on ${play.hosts} (bench/peers)`,
    hosts: play.hosts,
    gather_facts: false,
    vars_files: ["vars/secrets.yml"],
    tasks: play.tasks,
    handlers: play.handlers,
  }));
}

/** The playbook (site.yml). */
export function playbook(p: PeerStack | PeerPlan): string {
  return toYaml(playbookData(p));
}

/** The secrets the tasks use (vars/secrets.yml, 0600). */
export function secretVars(p: PeerStack | PeerPlan): string {
  const steps = planOf(p).stacks.flatMap((st) => st.steps);
  const db = steps.find((s) => s.kind === "database");
  const broker = steps.find((s) => s.kind === "brokerAccount");
  return toYaml({
    db_password: db?.kind === "database" ? db.password : "",
    broker_password: broker?.kind === "brokerAccount" ? broker.password : "",
  });
}

/** One group per set of roles; each host with its address (`private_address`, which shared plays use). */
export function inventory(hosts: readonly HostPlan[], privateKeyPath: string): string {
  const v = (s: string | number) => JSON.stringify(String(s));
  const groups = new Map<string, HostPlan[]>();
  for (const h of hosts) groups.set(groupName(h.roles), [...(groups.get(groupName(h.roles)) ?? []), h]);
  return [...groups].flatMap(([name, hs]) => [
    `[${name}]`,
    ...hs.map((h) => `${h.name} ansible_host=${v(h.address)} ansible_port=${h.port} ansible_user=${v(h.user)} ansible_ssh_private_key_file=${v(privateKeyPath)} private_address=${v(h.privateAddress)}`),
    "",
  ]).join("\n");
}

export function ansibleCfg(dir: string, forks = 5): string {
  return [
    "[defaults]",
    "inventory = inventory.ini",
    "gathering = explicit",
    "interpreter_python = /usr/bin/python3",
    "host_key_checking = True",
    "retry_files_enabled = False",
    // Every host of a play at once (the default is 5).
    `forks = ${forks}`,
    `local_tmp = ${dir}/.ansible/tmp`,
    "",
    "[ssh_connection]",
    "pipelining = True",
    `ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${dir}/known_hosts -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o IdentityAgent=none`,
    `control_path_dir = ${dir}/.cp`,
    "",
  ].join("\n");
}

/** Every file of the project: ansible.cfg, inventory, known_hosts, site.yml, vars/secrets.yml, files/<host>/<path>. */
export function ansibleProject(p: PeerStack | PeerPlan, o: ProjectOptions): ProjectFile[] {
  const plan = planOf(p);
  return [
    { path: "ansible.cfg", content: ansibleCfg(o.dir, Math.max(5, plan.stacks.length)), mode: 0o644 },
    { path: "inventory.ini", content: inventory(plan.stacks.map((st) => st.host), o.privateKeyPath), mode: 0o644 },
    { path: "known_hosts", content: plan.stacks.map((st) => knownHostsLine(st.host)).join(""), mode: 0o644 },
    { path: "site.yml", content: playbook(plan), mode: 0o644 },
    { path: "vars/secrets.yml", content: secretVars(plan), mode: 0o600 },
    ...plan.stacks.flatMap((st) => st.files.map((f) => ({ path: projectFilePath(st.host.name, f.path), content: f.content, mode: f.secret ? 0o600 : 0o644 }))),
  ];
}
