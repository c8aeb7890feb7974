/**
 * Names an app or its database role must not take. An app's name is a Unix user and its
 * folders; a name the system already uses would hand that account or folder
 * (`/var/lib/<name>`, `/etc/<name>`, `/var/log/<name>`, `/run/<name>`) to the app's user,
 * e.g. `dpkg` would give it /var/lib/dpkg and with it the package maintainer scripts. Pure.
 *
 * How the list was built (2026-12-05): the top-level entries of /var/lib, /etc, /var/log,
 * /run, /var/cache and /var/spool plus /etc/passwd and /etc/group of the Debian 13 root
 * filesystem scripts/testhosts boots, and of every .deb in its apt cache (what the roles
 * install: nginx, postgresql, rabbitmq-server and Erlang, rsyslog, nftables, ...),
 * kept where they could be an app's name (`[a-z][a-z0-9_]*`); then by hand what the
 * other roles' packages create in their maintainer scripts (redis, memcached, mariadb,
 * pgbackrest, restic, certbot and Let's Encrypt, epmd, chrony). Names with a dash
 * (`www-data`, `systemd-network`) cannot be app names anyway.
 */

/** System accounts and folders of a Debian host and of what our roles install. */
export const SYSTEM_NAMES: ReadonlySet<string> = new Set([
  // Accounts and groups of a Debian 13 base system.
  "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "backup", "list", "irc",
  "gnats", "nobody", "nogroup", "messagebus", "sshd", "adm", "tty", "disk", "kmem", "dialout", "fax", "voice", "cdrom",
  "floppy", "tape", "sudo", "audio", "dip", "operator", "src", "shadow", "utmp", "video", "sasl", "plugdev", "staff",
  "users", "polkitd", "tss", "uuidd", "syslog", "admin", "debian", "_apt", "_ssh",
  // Folders of a Debian 13 base system under /var/lib, /etc, /var/log, /run, /var/cache, /var/spool.
  "adduser", "alternatives", "apt", "btmp", "credstore", "dbus", "debconf", "default", "dhcp", "dpkg", "environment",
  "gss", "kernel", "lastlog", "ldconfig", "lock", "log", "logcheck", "logrotate", "misc", "mount", "opt",
  "pam", "perl", "pip", "pm", "private", "profile", "python", "python3", "rmt", "rpc", "runit", "security", "selinux",
  "shm", "skel", "ssh", "ssl", "sv", "systemd", "terminfo", "ucf", "ufw", "user", "wtmp", "wtmpdb", "xdg", "cron",
  "git", "init", "network", "networks", "udev", "tmpfiles", "sysctl", "modules", "locale", "localtime", "hostname",
  "hosts", "passwd", "group", "gshadow", "subuid", "subgid", "shells", "sudoers", "fstab", "machine", "motd", "issue",
  "dist", "ca_certificates", "vim", "emacs", "sgml", "xml", "libvirt", "docker", "containerd", "snapd", "polkit",
  // What the roles install: web, database, broker, cache, backups, certificates, logs, time.
  "nginx", "www", "postgresql", "postgres", "pgbackrest", "mysql", "mysqld", "mariadb", "rabbitmq", "epmd", "erlang",
  "redis", "memcache", "memcached", "restic", "letsencrypt", "certbot", "acme", "rsyslog", "nftables", "chrony",
  "ntp", "timesyncd", "unattended_upgrades", "certs", "ssl_cert",
  // django-fleet's own accounts (the replication role is also a database role).
  "replicator", "django_fleet", "fleet",
]);

/**
 * Database roles an app must not own: superusers, the roles django-fleet uses itself, and
 * names PostgreSQL or MariaDB reserve (`pg_*` roles, `public`, `current_user`, ...).
 */
export const DATABASE_RESERVED_USERS: ReadonlySet<string> = new Set([
  "postgres", "root", "mysql", "mariadb", "replicator", "public", "none", "all",
  "current_user", "current_role", "session_user", "user", "pgbackrest", "admin", "debian_sys_maint",
]);

/** Whether `name` is a database role an app must not be given. */
export function reservedDatabaseUser(name: string): boolean {
  return DATABASE_RESERVED_USERS.has(name) || name.startsWith("pg_");
}
