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
 * on changed in this run; the database role is made only when missing, the broker account
 * set only when RabbitMQ does not hold its password and rights; migrate and collectstatic
 * run once per release and env file (a marker in the release folder, keyed by the env
 * file's hash, is this script's only state). The last line says what changed
 * (`peer: no changes` on a second run).
 *
 * The helpers every step calls are in bash/prelude.ts, each step's script in bash/steps.ts;
 * this file puts them together and opens the sessions.
 */
import { script } from "../../lib/shell.ts";
import { wrapBody } from "../../providers/ssh.ts";
import type { HostPlan } from "../../config/topology.ts";
import { PRELUDE } from "./bash/prelude.ts";
import { step } from "./bash/steps.ts";
import type { PeerPlan, PeerStack } from "./types.ts";

/** The remote command the script is fed to. */
export const REMOTE_COMMAND = "bash -euo pipefail -s";

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
