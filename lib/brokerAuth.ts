/**
 * Credentials of the Redis server, verified by logging in with them: its password, and
 * that it is the only way in. Pure builders of the scripts that RemoteScripts run as their
 * `check` (on refresh) and `create` (the repair). The password arrives as a shell variable
 * (RemoteScript `secrets`, in the body on stdin) and reaches redis-cli in its environment
 * (REDISCLI_AUTH) and sha256sum on its stdin (printf is a bash builtin). A RabbitMQ
 * user's password: lib/rabbitAccount.ts.
 */
import { cmd, script } from "./shell.ts";

/** The shell variable holding the Redis password. */
export const REDIS_PASSWORD_VAR = "REDIS_PASSWORD";

/**
 * Lines that exit 1 unless Redis on loopback accepts the password and its ACL is what
 * our config makes: one user, `default`, on, with exactly this one password (a password
 * set by hand with CONFIG SET requirepass, a second password or user added with ACL
 * SETUSER, or `nopass` all fail it). Every test carries its own `|| exit 1`: the lines
 * also run inside a subshell in an `if`, where `set -e` does not apply.
 */
function redisAuthLines(port: number): string[] {
  const cli = `REDISCLI_AUTH="$${REDIS_PASSWORD_VAR}" redis-cli -h 127.0.0.1 -p ${cmd(port)}`;
  return [
    `pong=$(${cli} ping 2>&1) || exit 1`,
    `[ "$pong" = PONG ] || exit 1`,
    `acl=$(${cli} acl list 2>&1) || exit 1`,
    `want="#$(printf '%s' "$${REDIS_PASSWORD_VAR}" | sha256sum | cut -d' ' -f1)" || exit 1`,
    // Only the default user.
    `[ "$(printf '%s\\n' "$acl" | wc -l)" = 1 ] || exit 1`,
    `read -r -a w <<<"$acl" || exit 1`,
    `[ "\${w[0]-} \${w[1]-} \${w[2]-}" = "user default on" ] || exit 1`,
    "n=0",
    `for x in "\${w[@]}"; do case "$x" in "#"*) [ "$x" = "$want" ] || exit 1; n=$((n + 1)) ;; nopass|">"*|"<"*) exit 1 ;; esac; done`,
    `[ "$n" = 1 ] || exit 1`,
  ];
}

/** Exits 0 while Redis accepts exactly our password (the RemoteScript `check`). */
export function redisAuthCheck(port = 6379): string {
  return script("(", ...redisAuthLines(port), ")");
}

/**
 * The repair: nothing when the check passes; otherwise a restart of the server, which
 * loads the password from its config files again (a CONFIG SET or ACL SETUSER lives only
 * in the running process), then the check again, with a bounded wait.
 */
export function redisAuthRepair(unit: string, secretFile: string, port = 6379, waitSeconds = 30): string {
  const ok = ["redis_ok() {", "  (", ...redisAuthLines(port).map((l) => `    ${l}`), "  )", "}"];
  return script(
    ...ok,
    "if redis_ok; then exit 0; fi",
    `systemctl restart ${cmd(unit)}`,
    `for _ in $(seq 1 ${cmd(waitSeconds * 2)}); do if redis_ok; then exit 0; fi; sleep 0.5; done`,
    `echo ${cmd(`Redis (${unit}) still does not accept the password in ${secretFile} (or has other users or passwords) after a restart: look for requirepass, user or aclfile lines in its config`)} >&2`,
    "exit 1",
  );
}
