/**
 * The side gate: before a node that still takes traffic restarts gunicorn (the only node
 * in rotation, which cannot be drained), the new release is started beside the running
 * one and must pass the same health check. A release that fails it never serves a
 * request: the running gunicorn is not touched. Pure builder; the switch runs it
 * (providers/releaseSwitch.ops.ts).
 *
 * The side instance is a transient systemd service run the way the app's unit runs
 * gunicorn (the app user, the env file, the release's checkout and virtualenv, the same
 * gunicorn config), with one worker, bound to a Unix socket in its own runtime directory:
 * no TCP port to allocate, nothing another app or the firewall could meet. gunicorn trusts
 * X-Forwarded-* headers from a Unix socket peer as it does from 127.0.0.1, so the check
 * is answered as on the node's port.
 */
import { releasePaths } from "../components/paths.ts";
import { GATE_RESPONSE, type HealthGate } from "./healthGate.ts";
import { cmd, script } from "./shell.ts";

/** What the side instance runs and what it is checked with. */
export interface SideGate extends Omit<HealthGate, "unit"> {
  /** The app (its user, env file, releases). */
  readonly app: string;
  /** The release to check: its commit or its 12-character id. */
  readonly release: string;
  /** The env file the app's unit loads. */
  readonly envFile: string;
  /** WSGI callable, as on the unit's ExecStart. */
  readonly wsgiModule: string;
  /** gunicorn's config file, as on the unit's ExecStart (its `bind` is overridden). */
  readonly configFile: string;
}

/** The transient unit of an app's side instance. */
export function sideGateUnit(app: string): string {
  return `${app}-gunicorn-gate.service`;
}

/** Where the side instance listens (its runtime directory goes when it stops). */
export function sideGateSocket(app: string): string {
  return `/run/${app}-gate/gunicorn.sock`;
}

/**
 * Starts the release beside the running one, polls its health check until it passes, the
 * timeout, or the instance dies (an app that cannot import), and always stops it. On
 * failure prints the last response and the instance's journal, and exits 1.
 */
export function sideGateScript(g: SideGate): string {
  const r = releasePaths(g.app, g.release);
  const sock = sideGateSocket(g.app);
  const ok = g.status === undefined ? `[[ "$code" =~ ^[23][0-9][0-9]$ ]]` : `[ "$code" = ${cmd(g.status)} ]`;
  const run = [
    `systemd-run --quiet --collect --unit="$u"`,
    `-p User=${cmd(g.app)} -p Group=${cmd(g.app)}`,
    `-p EnvironmentFile=${cmd(g.envFile)} -p WorkingDirectory=${cmd(r.source)}`,
    `-p Environment=PYTHONUNBUFFERED=1 -p RuntimeDirectory=${cmd(`${g.app}-gate`)}`,
    "-p PrivateTmp=true -p NoNewPrivileges=true -p KillMode=mixed",
    `-- ${cmd(`${r.venv}/bin/gunicorn`)} --config ${cmd(g.configFile)} --bind ${cmd(`unix:${sock}`)} --workers 1 ${cmd(g.wsgiModule)}`,
  ].join(" ");
  return script(
    `u=${cmd(sideGateUnit(g.app))}`,
    // A side instance an interrupted run left behind goes first.
    `systemctl stop "$u" 2>/dev/null || true`,
    `systemctl reset-failed "$u" 2>/dev/null || true`,
    `body=$(mktemp)`,
    `trap 'systemctl stop "$u" 2>/dev/null || true; rm -f -- "$body"' EXIT`,
    `since=$(date +%s)`,
    `deadline=$((SECONDS + ${cmd(g.timeoutSeconds)}))`,
    run,
    "while :; do",
    `  code=$(curl -s -o "$body" -w '%{http_code}' --max-time 5 --unix-socket ${cmd(sock)} -H ${cmd(`Host: ${g.hostHeader}`)} -H 'X-Forwarded-Proto: https' -- ${cmd(g.url)} || true)`,
    `  if ${ok}; then echo "healthy beside the running release: HTTP $code"; exit 0; fi`,
    `  if ! systemctl is-active --quiet "$u" || [ "$SECONDS" -ge "$deadline" ]; then`,
    `    if [ "$code" = 000 ]; then what="no answer"; else what="HTTP $code $(head -c 300 -- "$body" | tr -s '\\n\\t ' ' ')"; fi`,
    `    echo ${cmd(`${GATE_RESPONSE} GET ${g.url} (the release started beside the running one):`)} "$what"`,
    `    journalctl -u "$u" --since "@$since" -n 15 --no-pager -o cat || true`,
    "    exit 1",
    "  fi",
    "  sleep 0.5",
    "done",
  );
}
