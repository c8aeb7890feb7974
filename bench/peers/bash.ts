/**
 * The plain-script peer: the dev stack as ONE bash script, sent over one SSH session
 * (`ssh host bash -euo pipefail -s`, the script on stdin); for a fleet, one such session
 * per host of each wave, side by side (bashFleetSessions). It is the floor of the
 * benchmark: it runs the same remote work as django-fleet (the same rendered files, and
 * the very scripts the components build where they build them with exported functions:
 * the package install, the release build, collectstatic, migrate, the health gate), with
 * no engine, no state file and one connection.
 *
 * Idempotent: a file is replaced only when its content, mode or owner differ; a unit is
 * started when it is not running, restarted or reloaded only when something it depends
 * on changed in this run; accounts are made only when missing; migrate and collectstatic
 * run once per release and env file (a marker in the release folder, keyed by the env
 * file's hash, is this script's only state). The last line says what changed
 * (`peer: no changes` on a second run).
 *
 * Every value reaches the script through lib/shell.ts (`cmd`, `quote`, `heredoc`).
 */
import { installedCheck } from "../../components/host.ts";
import { ALREADY_BUILT } from "../../lib/releaseBuild.ts";
import { linkCommands, pruneCommands } from "../../lib/releaseCurrent.ts";
import { cmd, heredoc, quote, script } from "../../lib/shell.ts";
import { plan as databasePlan, probeScript as databaseProbe, type DatabaseState } from "../../providers/postgresDatabase.ops.ts";
import { withSecrets } from "../../providers/remoteScript.ops.ts";
import { wrapBody } from "../../providers/ssh.ts";
import type { HostPlan } from "../../config/topology.ts";
import { envHash, fileById, type BrokerAccountStep, type DatabaseStep, type FilesStep, type HealthGateStep, type ManageStep, type PackagesStep, type PeerPlan, type PeerStack, type ReleaseStep, type ServiceStep, type Step, type UserStep } from "./render.ts";

/** The remote command the script is fed to. */
export const REMOTE_COMMAND = "bash -euo pipefail -s";

/** Seconds a started unit may take to answer on its port (the dev stack's READY_TIMEOUT_SECONDS). */
const READY_TIMEOUT_SECONDS = 30;

/**
 * The helpers every step uses. `peer_changed` holds what this run changed (file ids, step
 * ids, units); services and reruns are decided from it.
 */
export const PRELUDE = `# Command substitutions stop at a failure too (bash clears -e in them otherwise).
shopt -s inherit_errexit
declare -A peer_changed=()
peer_tmp=""
trap 'rm -f -- "$peer_tmp"' EXIT
peer_acted=untouched
peer_mark() { peer_changed[$1]=1; }
peer_any() { local id; for id in "$@"; do if [ -n "\${peer_changed[$id]:-}" ]; then return 0; fi; done; return 1; }
peer_flag() { if peer_any "$@"; then echo 1; else echo 0; fi; }
# peer_file ID PATH MODE OWNER GROUP NO_NEWLINE <<content: replaced (atomically) only when it differs.
peer_file() {
  local id=$1 p=$2 mode=$3 owner=$4 group=$5 nonl=$6 d
  d=$(dirname -- "$p")
  if [ ! -d "$d" ]; then install -d -m 0755 -- "$d"; fi
  peer_tmp=$(mktemp "$p.peer.XXXXXX")
  cat >"$peer_tmp"
  if [ "$nonl" = 1 ]; then truncate -s -1 -- "$peer_tmp"; fi
  if [ -f "$p" ] && cmp -s -- "$peer_tmp" "$p" && [ "$(stat -c '%a %U %G' -- "$p")" = "\${mode#0} $owner $group" ]; then
    rm -f -- "$peer_tmp"; peer_tmp=""; return 0
  fi
  chown -- "$owner:$group" "$peer_tmp"
  chmod -- "$mode" "$peer_tmp"
  mv -f -- "$peer_tmp" "$p"
  peer_tmp=""
  peer_mark "$id"
}
peer_running() { systemctl is-active --quiet -- "$1" && [ "$(systemctl show -p NRestarts --value -- "$1")" = "$2" ]; }
peer_down() { echo "$1 $2" >&2; journalctl -u "$1" -n 25 --no-pager -o cat >&2 || true; exit 1; }
peer_probe() {
  if [ "$3" = 1 ]; then
    timeout 10 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "GET / HTTP/fleet-ready-probe\\r\\n\\r\\n" >&3 && IFS= read -r l <&3 && [[ $l == HTTP/* ]]' "$1" "$2" 2>/dev/null
  else
    timeout 2 bash -c ': 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
  fi
}
peer_do() { systemctl "$1" -- "$2" || { sleep 2; systemctl "$1" -- "$2"; } || { journalctl -u "$2" -n 25 --no-pager -o cat >&2; exit 1; }; }
# peer_service UNIT RESTART RELOAD DAEMON_RELOAD HOST PORT HTTP: enabled, running, restarted or
# reloaded as asked, then proven ready as django-fleet proves it (port answers; else stays up).
peer_service() {
  local u=$1 restart=$2 reload=$3 dr=$4 host=$5 port=$6 http=$7 n0=0 end _
  peer_acted=untouched
  if [ "$dr" = 1 ]; then systemctl daemon-reload; fi
  case "$(systemctl is-enabled -- "$u" 2>/dev/null || true)" in
    enabled|enabled-runtime|static|indirect|alias|generated|linked) ;;
    *) systemctl enable --quiet -- "$u"; peer_mark "$u" ;;
  esac
  if ! systemctl is-active --quiet -- "$u"; then peer_do start "$u"; peer_acted=started
  elif [ "$restart" = 1 ]; then peer_do restart "$u"; peer_acted=started
  elif [ "$reload" = 1 ]; then peer_do reload-or-restart "$u"; peer_acted=reloaded
  fi
  if [ "$peer_acted" != untouched ]; then peer_mark "$u"; fi
  if [ "$peer_acted" != started ]; then n0=$(systemctl show -p NRestarts --value -- "$u"); fi
  if [ "$peer_acted" = reloaded ] || { [ "$peer_acted" = started ] && [ -z "$port" ]; }; then
    case "$(systemctl show -p Type --value -- "$u")" in
      simple|exec|idle) for _ in 1 2 3 4 5 6; do sleep 0.25; peer_running "$u" "$n0" || peer_down "$u" 'did not stay running:'; done ;;
    esac
  fi
  if [ -n "$port" ] && [ "$peer_acted" != untouched ]; then
    end=$((SECONDS + ${READY_TIMEOUT_SECONDS}))
    until peer_probe "$host" "$port" "$http"; do
      peer_running "$u" "$n0" || peer_down "$u" "stopped before it answered on $host:$port:"
      [ "$SECONDS" -lt "$end" ] || peer_down "$u" "did not answer on $host:$port within ${READY_TIMEOUT_SECONDS} s:"
      sleep 0.25
    done
  fi
  peer_running "$u" "$n0" || peer_down "$u" 'is not running:'
}
`;

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
 * The RabbitMQ vhost and user (named as lib/rabbitAccount.ts names them), made only when missing:
 * three rabbitmqctl calls when nothing is to do. The password reaches rabbitmqctl as an
 * argument inside this root-run script only, as in the dev stack.
 */
function brokerAccount(s: BrokerAccountStep): string {
  const v = quote(s.vhost);
  const u = quote(s.user);
  return withSecrets(script(
    title(`RabbitMQ vhost ${s.vhost} and user ${s.user}`),
    "peer_users=$(rabbitmqctl -q list_users | awk '{print $1}')",
    `if ! grep -x -- ${v} >/dev/null <<<"$(rabbitmqctl -q list_vhosts)"; then rabbitmqctl -q add_vhost ${v}; peer_mark brokerAccount; fi`,
    `if ! grep -x -- ${u} >/dev/null <<<"$peer_users"; then rabbitmqctl -q add_user ${u} "$BROKER_PASSWORD" >/dev/null; peer_mark brokerAccount; fi`,
    `if ! grep -x -- ${u} >/dev/null <<<"$(rabbitmqctl -q list_permissions -p ${v} | awk '{print $1}')"; then`,
    `  rabbitmqctl -q set_permissions -p ${v} ${u} '.*' '.*' '.*'; peer_mark brokerAccount`,
    "fi",
    ...s.deleteUsers.map((d) => `if grep -x -- ${quote(d)} >/dev/null <<<"$peer_users"; then rabbitmqctl -q delete_user ${quote(d)} >/dev/null; peer_mark brokerAccount; fi`),
    "unset BROKER_PASSWORD",
  ), { BROKER_PASSWORD: s.password });
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

function step(stack: PeerStack, s: Step): string {
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

/** The script body (run it as REMOTE_COMMAND with the body wrapped by {@link bashPeerStdin}). */
export function bashPeerScript(stack: PeerStack): string {
  return script(
    `# The dev stack of django-fleet on ${stack.host.name.replace(/[^\w.-]/g, "_")}, as one bash script (bench/peers/bash.ts).`,
    PRELUDE,
    ...stack.steps.map((s) => step(stack, s)),
    // The gunicorn unit's reload leaves peer_acted set; the summary is what the bench reads.
    `if [ "\${#peer_changed[@]}" -eq 0 ]; then echo "peer: no changes"; else echo "peer: changed: $(printf '%s\\n' "\${!peer_changed[@]}" | sort | tr '\\n' ' ')"; fi`,
  );
}

/**
 * What is written to ssh's stdin: the body wrapped so bash reads all of it before running
 * any of it (a command that reads stdin cannot swallow the rest; providers/ssh.ts).
 */
export function bashPeerStdin(stack: PeerStack): string {
  return wrapBody(bashPeerScript(stack));
}

/** The ssh command line for one session to the host (its key pinned in `knownHostsFile`). */
export function bashPeerSsh(host: HostPlan, o: { readonly identityFile: string; readonly knownHostsFile: string }): string[] {
  return [
    "ssh",
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${o.knownHostsFile}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "IdentitiesOnly=yes",
    "-o", "IdentityAgent=none",
    "-o", "LogLevel=ERROR",
    "-i", o.identityFile,
    "-p", String(host.port),
    "-l", host.user,
    "--", host.address,
    REMOTE_COMMAND,
  ];
}

/** The known_hosts line that pins the host's key. */
export function knownHostsLine(host: HostPlan): string {
  const name = host.port === 22 ? host.address : `[${host.address}]:${host.port}`;
  return `${name} ${host.hostKey}\n`;
}

/** One SSH session of the fleet's plain-script peer: a host and what is written to its ssh's stdin. */
export interface BashSession {
  readonly host: HostPlan;
  readonly stdin: string;
}

/**
 * The plain-script peer for a fleet (render.ts `renderPeerFleet`): one session per host of
 * each wave, the sessions of a wave side by side, the waves in order. A wave's script holds
 * only that host's steps of the wave; no step waits for one in another session of its host
 * (render.ts puts a host's steps that trigger each other in one wave).
 */
export function bashFleetSessions(fleet: PeerPlan): BashSession[][] {
  return fleet.waves.map((wave) => wave.map((st) => ({ host: st.host, stdin: bashPeerStdin(st) })));
}

/** The summary of a fleet run from each session's last line: "no changes", or each host's changes. */
export function fleetChanges(lasts: ReadonlyArray<{ readonly host: string; readonly last: string }>): string {
  const changed = lasts.filter((l) => l.last !== "no changes");
  return changed.length ? changed.map((l) => `${l.host}: ${l.last}`).join("; ") : "no changes";
}
