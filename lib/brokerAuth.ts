/**
 * Credentials of the broker and cache servers, verified by logging in with them: Redis's
 * password (and that it is the only way in), a RabbitMQ user's password. Pure builders of
 * the scripts that RemoteScripts run as their `check` (on refresh) and `create` (the
 * repair). Passwords arrive as shell variables (RemoteScript `secrets`, in the body on
 * stdin) and reach the tools in their environment (REDISCLI_AUTH) or on their stdin
 * (printf is a bash builtin); RabbitMQ's alone take it as an argument (see rabbitAccountCreate).
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
    `echo ${cmd(`Redis still does not accept the password in ${secretFile} (or has other users or passwords) after a restart: look for requirepass, user or aclfile lines in /etc/redis/redis.conf`)} >&2`,
    "exit 1",
  );
}

/** The shell variable holding a RabbitMQ user's password. */
export const BROKER_PASSWORD_VAR = "BROKER_PASSWORD";

/**
 * Creates the app's vhost and user, or sets the user's password again, and grants the
 * vhost. rabbitmqctl 4.0 takes the password as an argument: on stdin (the argument left
 * out) it waits for ever when not on a terminal (seen on Debian 13's 4.0.5). The argument
 * exists only inside this root-run script on the broker host, for as long as the call.
 */
export function rabbitAccountCreate(user: string): string {
  const u = cmd(user);
  const pw = `"$${BROKER_PASSWORD_VAR}"`;
  return script(
    // grep without -q: an early exit would fail the pipeline under pipefail.
    `rabbitmqctl -q list_vhosts | grep -x ${u} >/dev/null || rabbitmqctl -q add_vhost ${u}`,
    `if rabbitmqctl -q list_users | awk '{print $1}' | grep -x ${u} >/dev/null; then`,
    `  rabbitmqctl -q change_password ${u} ${pw} >/dev/null`,
    "else",
    `  rabbitmqctl -q add_user ${u} ${pw} >/dev/null`,
    "fi",
    `rabbitmqctl -q set_permissions -p ${u} ${u} '.*' '.*' '.*'`,
    // The default guest account is not needed by anything we run.
    "rabbitmqctl -q delete_user guest >/dev/null 2>&1 || true",
  );
}

/** Exits 0 while the user exists, may use its vhost, and logs in with the password. */
export function rabbitAccountCheck(user: string): string {
  const u = cmd(user);
  return script(
    `rabbitmqctl -q list_users | awk '{print $1}' | grep -x ${u} >/dev/null`,
    `rabbitmqctl -q list_permissions -p ${u} | awk '{print $1}' | grep -x ${u} >/dev/null`,
    `rabbitmqctl -q authenticate_user ${u} "$${BROKER_PASSWORD_VAR}" </dev/null >/dev/null 2>&1`,
  );
}
