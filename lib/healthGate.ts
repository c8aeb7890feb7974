/** The health gate an app node must pass after it switched to a release (a pure builder). */
import { cmd, script } from "./shell.ts";

/** The health check a node must pass. */
export interface HealthGate {
  /** The node's gunicorn unit. */
  readonly unit: string;
  /** URL on the node: its bind address, port and the check's path. */
  readonly url: string;
  /** Host header: an address the app's ALLOWED_HOSTS holds. */
  readonly hostHeader: string;
  /** The status expected. @default any 2xx or 3xx */
  readonly status?: number;
  /** Seconds before the node is given up on. */
  readonly timeoutSeconds: number;
}

/** Marker lines the gate prints on failure, so the provider can quote them. */
export const GATE_RESPONSE = "django-fleet-gate-response:";

/**
 * Polls the node until the check passes. It gives up at the timeout, or at once when the
 * unit failed or systemd had to restart it (an app that cannot import never answers),
 * printing the last response and the unit's journal.
 */
export function healthGateScript(g: HealthGate): string {
  const ok = g.status === undefined ? `[[ "$code" =~ ^[23][0-9][0-9]$ ]]` : `[ "$code" = ${cmd(g.status)} ]`;
  const u = cmd(g.unit);
  return script(
    `deadline=$((SECONDS + ${cmd(g.timeoutSeconds)}))`,
    `body=$(mktemp)`,
    `trap 'rm -f -- "$body"' EXIT`,
    "while :; do",
    `  code=$(curl -s -o "$body" -w '%{http_code}' --max-time 5 -H ${cmd(`Host: ${g.hostHeader}`)} -H 'X-Forwarded-Proto: https' -- ${cmd(g.url)} || true)`,
    `  if ${ok}; then echo "healthy: HTTP $code"; exit 0; fi`,
    `  dead=""; if systemctl is-failed --quiet ${u} || [ "$(systemctl show -p NRestarts --value ${u})" != 0 ]; then dead=1; fi`,
    `  if [ -n "$dead" ] || [ "$SECONDS" -ge "$deadline" ]; then`,
    `    if [ "$code" = 000 ]; then what="no answer"; else what="HTTP $code $(head -c 300 -- "$body" | tr -s '\\n\\t ' ' ')"; fi`,
    `    echo ${cmd(`${GATE_RESPONSE} GET ${g.url}:`)} "$what"`,
    `    journalctl -u ${u} -n 15 --no-pager -o cat || true`,
    "    exit 1",
    "  fi",
    "  sleep 0.5",
    "done",
  );
}
