/**
 * Operations of the RemoteScript provider: an imperative step on a host (package
 * installs, git checkout, migrate, reload) that re-runs exactly when its triggers or its
 * script change. A step may also carry a `check` script (exit 0: what the step made is
 * still in place); `pulumi refresh` runs it, so a removed package or a deleted broker
 * user shows as drift and the next `up` runs the step again. A step that makes an object
 * with a state may also carry a `read` script and the `state` it must print: refresh
 * stores what the read printed, so a drifted object previews as `state: "<found>" =>
 * "<wanted>"` (what drifted, not just that something did), and the next `up` re-runs it.
 */
import { sameRecord } from "../lib/records.ts";
import { heredoc, script } from "../lib/shell.ts";
import { stepLock, survivingStep } from "../lib/stepLock.ts";
import { run, type Connection } from "./ssh.ts";

export interface ScriptState {
  readonly connection: Connection;
  /** Runs on create, and on update unless `update` is given. */
  readonly create: string;
  readonly update?: string;
  readonly delete?: string;
  /** Named values whose change re-runs the step (shown by name in previews). */
  readonly triggers?: Record<string, string>;
  /** Values the script reads as shell variables; sent in the script body on stdin, never on a command line. */
  readonly secrets?: Record<string, string>;
  /** Exits 0 while what the step made is still in place; run on refresh. */
  readonly check?: string;
  /** false once a refresh found the step's work undone. */
  readonly inSync?: boolean;
  /** Prints the object's state as canonical lines (never a secret); run on refresh. */
  readonly read?: string;
  /** What `read` prints when the object is as wanted; after a refresh, what it printed. */
  readonly state?: string;
  /** A short description for error messages. */
  readonly description?: string;
  readonly schema?: number;
}

/** Shell variable names a script may receive; anything else is rejected before a run. */
const VAR = /^[A-Z_][A-Z0-9_]*$/;

/** The full body sent to the host: secrets first, as variables, then the step itself. */
export function withSecrets(body: string, secrets: Record<string, string> = {}): string {
  const lines = Object.keys(secrets).sort().map((k) => {
    if (!VAR.test(k)) throw new Error(`secret name ${JSON.stringify(k)} is not a shell variable name`);
    return `${k}=$(cat ${heredoc(secrets[k]!)}\n)`;
  });
  return script(...lines, body);
}

async function runStep(s: ScriptState, body: string, what: string): Promise<void> {
  // The same step left running by a killed run is waited for, and a step whose run is
  // killed finishes on the host rather than dying half-way (lib/stepLock.ts).
  await run(s.connection, stepLock(s.description ?? "script") + survivingStep(withSecrets(body, s.secrets)), {
    step: `${what}: ${s.description ?? "script"}`, redact: Object.values(s.secrets ?? {}),
  });
}

export async function create(inputs: ScriptState) {
  await runStep(inputs, inputs.create, "create");
  return { id: `${inputs.connection.host}:${inputs.description ?? "script"}:${Date.now().toString(36)}`, outs: inputs };
}

const KEYS = ["create", "update", "delete", "check", "inSync", "schema"] as const;


export async function diff(_id: string, olds: ScriptState, news: ScriptState) {
  const replaces = olds.connection?.host !== news.connection?.host ? ["connection"] : [];
  const changes = replaces.length > 0 || stepChanged(olds, news) || onlyRecorded(olds, news)
    || JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
  return { changes, replaces, deleteBeforeReplace: true };
}

/** Whether the step itself must run again (a new key for the same host is not a reason). */
export function stepChanged(olds: ScriptState, news: ScriptState): boolean {
  return KEYS.some((k) => olds[k] !== news[k]) || !sameRecord(olds.triggers, news.triggers)
    || !sameRecord(olds.secrets, news.secrets) || drifted(olds, news);
}

/** A refresh read another state than the one wanted (neither side missing: that is an upgrade, not drift). */
export function drifted(olds: ScriptState, news: ScriptState): boolean {
  return olds.state !== undefined && news.state !== undefined && olds.state !== news.state;
}

/**
 * A change to record without running anything on the host: `read` or `state` appearing
 * on (or leaving) a step that had none, or a new read script alone. The next refresh reads.
 */
export function onlyRecorded(olds: ScriptState, news: ScriptState): boolean {
  return olds.read !== news.read || olds.state !== news.state;
}

export async function update(_id: string, olds: ScriptState, news: ScriptState) {
  if (stepChanged(olds, news)) await runStep(news, news.update ?? news.create, "update");
  return { outs: news };
}

/** A script run on refresh: a failure is an answer, an ssh failure (255) is not. */
async function refreshRun(props: ScriptState, body: string, what: string) {
  const r = await run(props.connection, withSecrets(body, props.secrets), {
    step: `${what}: ${props.description ?? "script"}`, allowFailure: true, redact: Object.values(props.secrets ?? {}),
  });
  if (r.code === 255) throw new Error(`${what}: ${props.description ?? "script"} on ${props.connection.host}: ssh could not connect`);
  return r;
}

/**
 * The state a read printed, as stored: trimmed, a failed read marked as such (so it is
 * drift, never taken for the wanted state), and any secret value masked, should a read
 * print one by mistake (the state is stored in plain text).
 */
export function foundState(stdout: string, code: number, secrets: Record<string, string> = {}): string {
  let text = stdout.trim();
  for (const v of Object.values(secrets)) if (v !== "") text = text.split(v).join("[secret]");
  return code === 0 ? text : [text, `read failed (exit ${code})`].filter((l) => l !== "").join("\n");
}

/**
 * Runs the check script, if any (its exit status says whether the step's work is in
 * place), and the read script, if any (what it prints is the object's state as found).
 */
export async function read(id: string, props: ScriptState) {
  let out: ScriptState = props;
  if (props.check) out = { ...out, inSync: (await refreshRun(props, props.check, "check")).code === 0 };
  if (!props.read) return { id, props: out };
  const r = await refreshRun(props, props.read, "read");
  out = { ...out, state: foundState(r.stdout, r.code, props.secrets) };
  // As inputs too: preview --diff compares the old inputs with the new ones (a dynamic
  // provider gives no detailed diff), so only then does it show the state as found. The
  // engine marks the secret fields again from the old state.
  return { id, props: out, inputs: out };
}

export async function delete_(_id: string, props: ScriptState) {
  if (props.delete) await runStep(props, props.delete, "delete");
}
export { delete_ as delete };
