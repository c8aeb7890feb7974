/**
 * Each step of the render (render.ts) as bash, for the plain-script peer's script (bash.ts),
 * with the helpers of prelude.ts. Each is idempotent as bash.ts's header says.
 *
 * Every value reaches the script through lib/shell.ts (`cmd`, `quote`, `heredoc`).
 */
import { installedCheck } from "../../../components/host.ts";
import { ALREADY_BUILT } from "../../../lib/releaseBuild.ts";
import { BROKER_PASSWORD_VAR, rabbitAccountCreate, rabbitAccountFunctions } from "../../../lib/rabbitAccount.ts";
import { linkCommands, pruneCommands } from "../../../lib/releaseCurrent.ts";
import { cmd, heredoc, quote, script } from "../../../lib/shell.ts";
import { plan as databasePlan, probeScript as databaseProbe, type DatabaseState } from "../../../providers/postgresDatabase.ops.ts";
import { withSecrets } from "../../../providers/remoteScript.ops.ts";
import { envHash, fileById } from "../render.ts";
import type { BrokerAccountStep, DatabaseStep, FilesStep, HealthGateStep, ManageStep, PackagesStep, PeerStack, ReleaseStep, ServiceStep, Step, UserStep } from "../types.ts";

/** A comment line naming the step (plain text: no value in it is ever run). */
function title(text: string): string {
  return `# --- ${text.replace(/\n/g, " ")}`;
}

/** Runs `body` in a subshell (its `exit` and `cd` stay inside). */
function subshell(body: string): string {
  return `(\n${body.trimEnd()}\n)`;
}

function packages(s: PackagesStep): string {
  return script(
    title(`packages (${s.packages.length}), on ${s.release.title}`),
    `if ${subshell(installedCheck(s.packages))}; then peer_had=1; else peer_had=0; fi`,
    subshell(s.script),
    `if [ "$peer_had" = 0 ]; then peer_mark packages; fi`,
  );
}

function files(stack: PeerStack, s: FilesStep): string {
  return script(title(`files: ${s.files.join(", ")}`), ...s.files.map((id) => {
    const f = fileById(stack, id);
    return `peer_file ${cmd(f.id, f.path, f.mode, f.owner, f.group, f.content.endsWith("\n") ? 0 : 1)} ${heredoc(f.content)}`;
  }));
}

function flag(ids: readonly string[]): string {
  return ids.length ? `"$(peer_flag ${cmd(...ids)})"` : "0";
}

function service(s: ServiceStep): string {
  const r = s.readyCheck;
  const host = !r ? "" : !r.host || r.host === "0.0.0.0" ? "127.0.0.1" : r.host === "::" ? "::1" : r.host;
  return script(
    title(`unit ${s.unit}`),
    `peer_service ${quote(s.unit)} ${flag(s.restartOn)} ${flag(s.reloadOn)} ${flag(s.ownUnitFile ? [s.ownUnitFile] : [])} ${quote(host)} ${quote(r ? String(r.port) : "")} ${r?.http ? 1 : 0}`,
  );
}

/** The layout script of services/app/appRelease.ts, from the step's data, marking `user` when it made something. */
function user(s: UserStep): string {
  const u = quote(s.user);
  const byOwnerMode = new Map<string, string[]>();
  for (const d of s.dirs) {
    const key = `${d.owner} ${d.group} ${d.mode}`;
    byOwnerMode.set(key, [...(byOwnerMode.get(key) ?? []), d.path]);
  }
  return script(
    title(`user ${s.user} and its folders`),
    // An account that exists with another home is not ours: never run the app as it.
    `if id -u ${u} >/dev/null 2>&1; then`,
    `  peer_home=$(getent passwd ${u} | cut -d: -f6)`,
    `  if [ "$peer_home" != ${quote(s.home)} ]; then echo ${quote(`the account ${s.user} exists already (home `)}"$peer_home"${quote(") and was not made by django-fleet")} >&2; exit 3; fi`,
    "else",
    `  useradd --system --user-group --home-dir ${quote(s.home)} --shell ${quote(s.shell)} -- ${u}`,
    "  peer_mark user",
    "fi",
    ...[...byOwnerMode].map(([key, paths]) => {
      const [owner, group, mode] = key.split(" ") as [string, string, string];
      return `install -d -o ${quote(owner)} -g ${quote(group)} -m ${quote(mode)} -- ${cmd(...paths)}`;
    }),
    ...s.chmod.map((c) => `chmod ${cmd(c.mode, c.path)}`),
  );
}

/**
 * The database and role: providers/postgresDatabase.ops.ts's probe, then its plan for
 * what the probe saw (every case rendered ahead, chosen on the host). An existing role
 * keeps its password, as on a no-change `up`.
 */
function database(s: DatabaseStep): string {
  const desired = { connection: { host: "", hostKey: "", privateKey: "" }, database: s.database, owner: s.owner, password: s.password } satisfies DatabaseState;
  const cases: string[] = [];
  for (const role of [0, 1]) {
    for (const db of [0, 1]) {
      for (const pub of [0, 1]) {
        const body = databasePlan(desired, { roleExists: role === 1, databaseExists: db === 1, publicConnect: pub === 1 }, false);
        cases.push(body ? `  ${quote(`${role} ${db} ${pub}`)})\n${body}  peer_mark database ;;` : `  ${quote(`${role} ${db} ${pub}`)}) ;;`);
      }
    }
  }
  return script(
    title(`database ${s.database} and role ${s.owner}`),
    "cd /",
    `peer_seen=$(\n${databaseProbe(s).trimEnd()}\n)`,
    `case "$peer_seen" in`,
    ...cases,
    `  *) echo "unexpected database probe output: $peer_seen" >&2; exit 1 ;;`,
    "esac",
  );
}

/**
 * The RabbitMQ vhost and user, with the program's own scripts (lib/rabbitAccount.ts, as
 * services/rabbitmq/broker.ts runs them): the check first, and the account set only when
 * RabbitMQ does not hold our password and rights, as `up` repairs it. The password is on
 * no command line: it sits in the script (stdin), reaches sha256sum on its stdin, and
 * rabbitmqctl gets only its hash, in a file (root's rabbitmqctl re-runs itself through `su`
 * with all its arguments, which `ps` and the journal show).
 */
export function brokerAccount(s: BrokerAccountStep): string {
  // The program's account is named after the app and its vhost after the user (one name).
  if (s.vhost !== s.user) throw new Error(`broker account: vhost ${s.vhost} is not the user's name ${s.user}, which lib/rabbitAccount.ts assumes`);
  return withSecrets(script(
    title(`RabbitMQ vhost ${s.vhost} and user ${s.user}`),
    ...rabbitAccountFunctions(s.user),
    "if ! rabbit_account_ok; then",
    subshell(rabbitAccountCreate(s.user)),
    "  peer_mark brokerAccount",
    "fi",
    ...(s.deleteUsers.length ? ["peer_users=$(rmq list_users | awk '{print $1}')"] : []),
    ...s.deleteUsers.map((d) => `if grep -x -- ${quote(d)} >/dev/null <<<"$peer_users"; then rmq delete_user ${quote(d)} >/dev/null; peer_mark brokerAccount; fi`),
    `unset ${BROKER_PASSWORD_VAR}`,
  ), { [BROKER_PASSWORD_VAR]: s.password });
}

/** The dev stack's build script as it is (fast when built), then `current` moved to it. */
function release(stack: PeerStack, s: ReleaseStep): string {
  return script(
    title(`release ${s.releaseId}: ${s.checkout.repo} at ${s.checkout.commit}, virtualenv with ${s.virtualenv.method}`),
    `peer_out=$(\n${s.script.trimEnd()}\n)`,
    `if [ -n "$peer_out" ]; then printf '%s\\n' "$peer_out"; fi`,
    `case "$peer_out" in *${quote(ALREADY_BUILT)}*) ;; *) peer_mark release ;; esac`,
    `if [ "$(readlink -- ${quote(s.current.link)} 2>/dev/null || true)" != ${quote(s.current.target)} ]; then`,
    subshell(script(...linkCommands(stack.app.name, s.checkout.commit))),
    "  peer_mark release",
    "fi",
  );
}

/** A manage.py step, once per release and env file (a marker in the release folder). */
function manage(stack: PeerStack, s: ManageStep): string {
  const release = stack.steps.find((x): x is ReleaseStep => x.kind === "release")!;
  const marker = `${release.checkout.dir}/.peer-${s.id}`;
  const key = `${stack.app.releaseId} ${envHash(stack)}`;
  const empty = s.staticRoot ? ` || [ -z "$(ls -A -- ${quote(s.staticRoot)} 2>/dev/null)" ]` : "";
  return script(
    title(`manage.py ${s.args}`),
    `if [ "$(cat -- ${quote(marker)} 2>/dev/null || true)" != ${quote(key)} ] || peer_any ${cmd(...s.rerunOn)}${empty}; then`,
    subshell(s.script),
    `  printf '%s\\n' ${quote(key)} > ${quote(marker)}`,
    `  peer_mark ${quote(s.id)}`,
    "fi",
  );
}

/** After gunicorn (re)started onto a release: the dev stack's gate, then old releases pruned. */
function healthGate(stack: PeerStack, s: HealthGateStep): string {
  return script(
    title(`health gate: ${s.url}`),
    `if [ "$peer_acted" = started ]; then`,
    subshell(s.script),
    subshell(script(...pruneCommands(stack.app.name, s.keepReleases))),
    "fi",
  );
}

/** The script of one step. */
export function step(stack: PeerStack, s: Step): string {
  switch (s.kind) {
    case "packages": return packages(s);
    case "files": return files(stack, s);
    case "service": return service(s);
    case "user": return user(s);
    case "database": return database(s);
    case "brokerAccount": return brokerAccount(s);
    case "release": return release(stack, s);
    case "manage": return manage(stack, s);
    case "healthGate": return healthGate(stack, s);
  }
}
