/**
 * The Ansible peer's tasks of one host, step by step in the render's order, with the
 * handlers flushed where a unit must be in its new state.
 */
import { BROKER_PASSWORD_VAR, rabbitAccountCheck, rabbitAccountCreate } from "../../../lib/rabbitAccount.ts";
import type { PeerStack, ServiceStep, Step } from "../types.ts";
import { fileTasks } from "./fileTasks.ts";
import { flush, notify } from "./handlers.ts";
import { manageArgv, releaseTasks } from "./releaseTasks.ts";
import { B, type Task } from "./task.ts";

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
