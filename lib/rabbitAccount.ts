/**
 * A RabbitMQ app account (its vhost, its user and password, the user's permissions on that
 * vhost), set and verified with the password on no command line. rabbitmqctl 4.0 takes a
 * password only as an argument (its stdin prompt waits for ever off a terminal), and
 * root's rabbitmqctl is `su rabbitmq -c "<every argument>"`: seen in `ps` by every local
 * user, and kept in the journal as the _CMDLINE of su's PAM lines. So the script hashes
 * the password itself, as RabbitMQ does, and hands the hash to `import_definitions` in a
 * file; the check exports the definitions and hashes our password again with the user's
 * salt. The password stays in the script (stdin) and reaches sha256sum on its stdin.
 * Pure builders of the RemoteScript `create` and `check`.
 */
import { cmd, script } from "./shell.ts";

/** The shell variable holding a RabbitMQ user's password. */
export const BROKER_PASSWORD_VAR = "BROKER_PASSWORD";

/** The account RabbitMQ's package makes, which nothing we run uses: {@link rabbitAccountCreate} removes it. */
export const RABBIT_DEFAULT_USER = "guest";

/** RabbitMQ's default hashing module (we manage rabbitmq.conf and do not change it). */
export const RABBIT_HASHING = "rabbit_password_hashing_sha256";

/** Seconds each rabbitmqctl call may take before it is killed (the script then fails). */
export const RABBITMQCTL_TIMEOUT_S = 60;

/**
 * The definitions document that creates or updates the account: `@HASH@` stands for the
 * base64 hash the script computes. No tags (an app's user is no administrator), written
 * as "" rather than []: RabbitMQ before 3.11 (Debian 12's 3.10) reads tags as a string only.
 */
export function accountDefinitions(user: string): string {
  return JSON.stringify({
    users: [{ name: user, password_hash: "@HASH@", hashing_algorithm: RABBIT_HASHING, tags: "" }],
    vhosts: [{ name: user }],
    permissions: [{ user, vhost: user, configure: ".*", write: ".*", read: ".*" }],
  });
}

/**
 * The bash functions both scripts define: `rmq` (rabbitmqctl, bounded, stdin /dev/null),
 * `hex_bytes`, `rabbit_hash <salt as 8 hex digits>` (prints the base64 hash of the password
 * in $BROKER_PASSWORD) and `rabbit_account_ok` (exit 0 while RabbitMQ holds our password
 * and rights for `user`), read from `export_definitions`.
 */
export function rabbitAccountFunctions(user: string): string[] {
  const pw = `"$${BROKER_PASSWORD_VAR}"`;
  // One object of the export (one level of nesting: a user's `limits`) per line.
  const objects = String.raw`grep -oE '\{([^{}]|\{[^{}]*\})*\}'`;
  const field = (key: string) => `sed -n ${cmd(String.raw`s/.*"${key}":"\([^"]*\)".*/\1/p`)}`;
  return [
    // Bounded, and never reading the script, which arrives on the same stdin.
    `rmq() { timeout ${RABBITMQCTL_TIMEOUT_S} rabbitmqctl -q "$@" </dev/null; }`,
    // The bytes that hex digits spell, written by printf (a bash builtin: no argv).
    'hex_bytes() { local h=$1 f=; while [ -n "$h" ]; do f+="\\\\x${h:0:2}"; h=${h:2}; done; printf "$f"; }',
    // rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)), the salt
    // 4 bytes given as 8 hex digits. The password goes to sha256sum on its stdin.
    "rabbit_hash() {",
    "  local d",
    `  d=$({ hex_bytes "$1"; printf '%s' ${pw}; } | sha256sum) || return 1`,
    `  { hex_bytes "$1"; hex_bytes "\${d%% *}"; } | base64 -w0`,
    "}",
    // 0 while the user has exactly our password (its hash recomputed with its own salt)
    // and all rights on its vhost, and no tags. Each step has its own `|| return 1`: in an `if`, set -e
    // does not apply.
    "rabbit_account_ok() {",
    "  local defs objs user perm tags algo hash hex",
    "  defs=$(rmq export_definitions -) || return 1",
    // Compact JSON as 4.0 prints it, should a version print it pretty.
    `  objs=$(printf '%s' "$defs" | tr -d '\\r\\n' | sed -E 's/"[[:space:]]*:[[:space:]]*"/":"/g' | ${objects}) || return 1`,
    `  user=$(printf '%s\\n' "$objs" | grep -F ${cmd(`"name":${JSON.stringify(user)}`)} | grep -F '"password_hash":"' | sed -n 1p) || return 1`,
    `  perm=$(printf '%s\\n' "$objs" | grep -F ${cmd(`"user":${JSON.stringify(user)}`)} | grep -F ${cmd(`"vhost":${JSON.stringify(user)}`)} | grep -F '"configure":".*"' | grep -F '"write":".*"' | grep -F '"read":".*"' | sed -n 1p) || return 1`,
    `  [ -n "$user" ] && [ -n "$perm" ] || return 1`,
    // No tags: one given by hand (administrator, management) is drift. 4.0 writes a list,
    // 3.10 a string; the field may be absent.
    `  tags=$(printf '%s\\n' "$user" | grep -oE '"tags":(\\[[^]]*\\]|"[^"]*")' | sed -n 1p) || true`,
    `  case "$tags" in ''|'"tags":""'|'"tags":[]'|'"tags":[""]') ;; *) return 1 ;; esac`,
    `  algo=$(printf '%s\\n' "$user" | ${field("hashing_algorithm")}) || return 1`,
    // A JSON encoder may write / as \/.
    `  hash=$(printf '%s\\n' "$user" | ${field("password_hash")} | sed 's#\\\\/#/#g') || return 1`,
    `  [ "$algo" = ${RABBIT_HASHING} ] || return 1`,
    `  hex=$(printf '%s' "$hash" | base64 -d 2>/dev/null | od -An -tx1 -v | tr -d ' \\n') || return 1`,
    `  [ "\${#hex}" = 72 ] || return 1`,
    `  [ "$(rabbit_hash "\${hex:0:8}")" = "$hash" ] || return 1`,
    "}",
  ];
}

/**
 * Creates the app's vhost and user, or sets the user's password and permissions again,
 * in one `import_definitions` of a file that only root and the rabbitmq group (whose
 * rabbitmqctl reads it) can read, in a folder only they can enter. A new salt each time.
 * Then checks what RabbitMQ now holds, and drops the default guest account.
 */
export function rabbitAccountCreate(user: string): string {
  const [before, after] = accountDefinitions(user).split("@HASH@") as [string, string];
  return script(
    ...rabbitAccountFunctions(user),
    "salt=$(od -An -tx1 -N4 /dev/urandom | tr -d ' \\n')",
    `hash=$(rabbit_hash "$salt")`,
    "defs_dir=$(mktemp -d)",
    `trap 'rm -rf -- "$defs_dir"' EXIT`,
    `chgrp rabbitmq -- "$defs_dir"`,
    `chmod 0750 -- "$defs_dir"`,
    `(umask 0027; printf '%s%s%s\\n' ${cmd(before)} "$hash" ${cmd(after)} > "$defs_dir/account.json")`,
    `chgrp rabbitmq -- "$defs_dir/account.json"`,
    `rmq import_definitions "$defs_dir/account.json" >/dev/null`,
    `rm -rf -- "$defs_dir"`,
    // The default guest account is not needed by anything we run.
    `rmq delete_user ${cmd(RABBIT_DEFAULT_USER)} >/dev/null 2>&1 || true`,
    "if ! rabbit_account_ok; then",
    `  echo ${cmd(`RabbitMQ does not hold the password just set for user ${user} (or its rights on vhost ${user}): see /var/log/rabbitmq/`)} >&2`,
    "  exit 1",
    "fi",
  );
}

/** Exits 0 while the user exists, has all rights on its vhost, and has our password. */
export function rabbitAccountCheck(user: string): string {
  return script(...rabbitAccountFunctions(user), "rabbit_account_ok");
}

/** Deletes the user (its vhost and queues stay). */
export function rabbitAccountDelete(user: string): string {
  return script(`timeout ${RABBITMQCTL_TIMEOUT_S} rabbitmqctl -q delete_user ${cmd(user)} </dev/null >/dev/null 2>&1 || true`);
}

/** The account as {@link rabbitAccountRead} prints it when as wanted. */
export function rabbitAccountState(user: string): string {
  return [
    `vhost ${user} present`,
    `user ${user} present`,
    `user ${user} tags=none`,
    `permissions ${user} on vhost ${user} configure=.* write=.* read=.*`,
    "password matches",
    `user ${RABBIT_DEFAULT_USER} absent`,
  ].join("\n");
}

/**
 * Prints the account as RabbitMQ holds it, from one `export_definitions` (read-only): the
 * vhost, the user, its tags, its rights on its vhost, whether its password is ours
 * (`matches`/`differs`: the hash recomputed with the user's salt, as the check does; the
 * password itself is never printed), and the guest account. A failed export fails the read.
 */
export function rabbitAccountRead(user: string): string {
  const objects = String.raw`grep -oE '\{([^{}]|\{[^{}]*\})*\}'`;
  const field = (key: string) => `sed -n ${cmd(String.raw`s/.*"${key}":"\([^"]*\)".*/\1/p`)}`;
  const name = (n: string) => cmd(`"name":${JSON.stringify(n)}`);
  return script(
    ...rabbitAccountFunctions(user),
    "defs=$(rmq export_definitions -)",
    `objs=$(printf '%s' "$defs" | tr -d '\\r\\n' | sed -E 's/"[[:space:]]*:[[:space:]]*"/":"/g' | ${objects})`,
    // grep finding nothing is an answer here, not a failure.
    `pick() { grep -F "$@" || true; }`,
    // A vhost is the object of that name that is no user, no queue or exchange of a vhost, no parameter.
    `vh=$(printf '%s\\n' "$objs" | pick ${name(user)} | grep -vF -e '"password_hash"' -e '"vhost":' -e '"value":' || true)`,
    `if [ -n "$vh" ]; then echo ${cmd(`vhost ${user} present`)}; else echo ${cmd(`vhost ${user} absent`)}; fi`,
    `u=$(printf '%s\\n' "$objs" | pick ${name(user)} | pick '"password_hash":"' | sed -n 1p)`,
    `if [ -z "$u" ]; then`,
    `  echo ${cmd(`user ${user} absent`)}`,
    "else",
    `  echo ${cmd(`user ${user} present`)}`,
    // 4.0 writes a list, 3.10 a string; absent or empty is none.
    `  tags=$(printf '%s\\n' "$u" | grep -oE '"tags":(\\[[^]]*\\]|"[^"]*")' | sed -n 1p | sed -E 's/^"tags"://; s/[][" ]//g' || true)`,
    `  printf '%s tags=%s\\n' ${cmd(`user ${user}`)} "\${tags:-none}"`,
    "fi",
    `p=$(printf '%s\\n' "$objs" | pick ${cmd(`"user":${JSON.stringify(user)}`)} | pick ${cmd(`"vhost":${JSON.stringify(user)}`)} | pick '"configure":"' | sed -n 1p)`,
    `if [ -z "$p" ]; then echo ${cmd(`permissions ${user} on vhost ${user} absent`)}; else`,
    `  printf '%s configure=%s write=%s read=%s\\n' ${cmd(`permissions ${user} on vhost ${user}`)} "$(printf '%s\\n' "$p" | ${field("configure")})" "$(printf '%s\\n' "$p" | ${field("write")})" "$(printf '%s\\n' "$p" | ${field("read")})"`,
    "fi",
    `if [ -n "$u" ]; then`,
    // The check's own comparison; its other conditions are printed above.
    `  algo=$(printf '%s\\n' "$u" | ${field("hashing_algorithm")})`,
    `  hash=$(printf '%s\\n' "$u" | ${field("password_hash")} | sed 's#\\\\/#/#g')`,
    `  hex=$(printf '%s' "$hash" | base64 -d 2>/dev/null | od -An -tx1 -v | tr -d ' \\n' || true)`,
    `  if [ "$algo" = ${RABBIT_HASHING} ] && [ "\${#hex}" = 72 ] && [ "$(rabbit_hash "\${hex:0:8}")" = "$hash" ]; then echo "password matches"; else echo "password differs"; fi`,
    "fi",
    `g=$(printf '%s\\n' "$objs" | pick ${name(RABBIT_DEFAULT_USER)} | pick '"password_hash":"' | sed -n 1p)`,
    `if [ -n "$g" ]; then echo ${cmd(`user ${RABBIT_DEFAULT_USER} present`)}; else echo ${cmd(`user ${RABBIT_DEFAULT_USER} absent`)}; fi`,
  );
}
