/**
 * A lock per remote step, taken by the step's own script on the host. A run that was
 * killed (SIGKILL, a lost laptop) can leave its step running on the server: ssh's end does
 * not stop a remote command that has no terminal, and stopping apt or pip half-way would
 * be worse than letting it finish. The next run's same step then waits for it here, says
 * what it waits for, and goes on once it is done, instead of failing on dpkg's lock or
 * racing it (a package's postinst finishing after our config was written and loaded).
 */
import { shortHash } from "./hash.ts";
import { cmd, script } from "./shell.ts";

/**
 * Where the locks live: /run is emptied by a reboot, which ends any old step too. Not
 * under /run/lock, which every user may write (1777): an app's user could make the folder
 * first, or a link in it, and root would write the holder line where that link points.
 */
export const STEP_LOCK_DIR = "/run/django-fleet/step-locks";

/** The first words of the line a waiting step prints (ssh.ts passes it on to the user). */
export const WAITING = "django-fleet: waiting for";

/**
 * Bash that takes the step's lock (fd 9, held by the script and everything it starts) and
 * waits up to `waitS` seconds for an earlier holder, naming it. Exits 75 with what to do
 * when the earlier step is still running then. `dir` is for tests. @default STEP_LOCK_DIR
 */
export function stepLock(step: string, waitS = 1200, dir = STEP_LOCK_DIR): string {
  const file = `${dir}/${shortHash(step)}.lock`;
  const minutes = Math.round(waitS / 60);
  return script(
    // Root's own folder, or no lock at all: never follow (or chmod) what another user made.
    `if [ -L ${cmd(dir)} ] || { [ -e ${cmd(dir)} ] && [ "$(stat -c %u ${cmd(dir)})" != "$(id -u)" ]; }; then echo "django-fleet: "${cmd(dir)}" is not a folder of $(id -un)'s; remove it and run again" >&2; exit 75; fi`,
    `install -d -m 0700 ${cmd(dir)}`,
    `exec 9<>${cmd(file)}`,
    "if ! flock -n 9; then",
    `  holder=$(cat ${cmd(file)} 2>/dev/null || true)`,
    // The earlier step's own shell still runs (it waits for its apt or pip). When it has
    // ended, what holds the lock is a daemon that step started: nothing to wait for.
    `  holder_pid=\${holder#pid }; holder_pid=\${holder_pid%% *}`,
    `  if [ -z "$holder_pid" ] || [ -d "/proc/$holder_pid" ]; then`,
    `  echo "${WAITING} "${cmd(`'${step}'`)}" still running from an earlier, interrupted run (\${holder:-pid unknown}); up to ${minutes} min" >&2`,
    `  if ! flock -w ${waitS} 9; then`,
    `    echo "django-fleet: "${cmd(`'${step}'`)}" from an earlier run is still running after ${minutes} min (\${holder:-pid unknown}): wait for it to end (or stop that process), then run \\\`pulumi up\\\` again" >&2`,
    "    exit 75",
    "  fi",
    "  fi",
    "fi",
    `echo "pid $$ since $(date -u +%FT%TZ)" > ${cmd(file)}`,
  );
}

/**
 * Runs `body` in a background subshell writing to files, and passes its output on once it
 * has ended. When the run that started the step is killed, ssh's end closes the session's
 * pipes: a step writing to them directly would die of SIGPIPE half-way (an apt
 * maintainer script, a pip install), leaving a half-configured package. This way the
 * shell only waits while the step runs, and the step finishes whatever happens locally.
 */
export function survivingStep(body: string): string {
  return script(
    "step_out=$(mktemp) step_err=$(mktemp)",
    "(",
    body.endsWith("\n") ? body.slice(0, -1) : body,
    ') >"$step_out" 2>"$step_err" &',
    'step_rc=0; wait "$!" || step_rc=$?',
    'cat "$step_out"; cat "$step_err" >&2; rm -f "$step_out" "$step_err"',
    'exit "$step_rc"',
  );
}
