import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MANAGED_NOTICE } from "../../lib/render.ts";
import { checkRetention } from "../../services/restic/jobScript.ts";
import { renderResticEnv, type ResticEnvOptions } from "../../services/restic/env.ts";
import { MARIADB_DUMP_FILENAME, renderMariaDbBackupScript, type MariaDbBackupScriptOptions } from "../../services/restic/mariaDbBackupScript.ts";
import { mediaRestoreCommands, renderMediaBackupScript, type MediaBackupScriptOptions } from "../../services/restic/mediaBackupScript.ts";
import { renderPgBackupScript } from "../../services/pgbackrest/backupScript.ts";
import { renderPgRestoreDrillScript, type PgRestoreDrillScriptOptions } from "../../services/pgbackrest/restoreDrillScript.ts";
import { renderBackupService, renderBackupTimer, type BackupServiceOptions, type BackupTimerOptions } from "../../components/timedJobUnits.ts";
import { renderPgBackRestConf } from "../../services/pgbackrest/pgbackrest.ts";
import type { PgBackRestConfOptions } from "../../services/pgbackrest/pgbackrest.ts";
import { expectGolden } from "../helpers/golden.ts";

/** Test secrets: distinctive, and with every character a shell or env file could trip on. */
const SECRETS = {
  accessKeyId: "AKIA-TEST-7f3e9c",
  secretAccessKey: 'sk/Te$t+k3y="`\\#x!',
  cipherPass: "cipher-TEST_b64url_Qz9xW2",
  resticPassword: "restic-TEST_pw'Lm4",
} as const;

const RETENTION = { daily: 7, weekly: 4, monthly: 6 };
const PLANNER = "/usr/local/lib/django-fleet/pgbackrest-gfs.py";

const pgConf: PgBackRestConfOptions = {
  stanza: "django-fleet",
  pgPath: "/var/lib/postgresql/17/main",
  endpoint: "s3.example.net",
  bucket: "fleet-backups",
  region: "eu-central-1",
  pathStyle: false,
  repoPath: "/django-fleet/prod/pgbackrest",
  accessKeyId: SECRETS.accessKeyId,
  secretAccessKey: SECRETS.secretAccessKey,
  cipherPass: SECRETS.cipherPass,
  archiveRetentionFulls: 7,
};

const resticEnv: ResticEnvOptions = {
  repository: "s3:https://198.18.0.1:9000/fleet-backups/django-fleet/dev/restic",
  caFile: "/etc/django-fleet/object-store-ca.pem",
  region: "us-east-1",
  accessKeyId: SECRETS.accessKeyId,
  secretAccessKey: SECRETS.secretAccessKey,
  password: SECRETS.resticPassword,
};

const mariaBackup: MariaDbBackupScriptOptions = {
  envFile: "/etc/django-fleet/restic.env",
  host: "django-fleet-mariadb",
  retention: RETENTION,
  pathStyle: true,
};

const drill: PgRestoreDrillScriptOptions = { stanza: "django-fleet", pgVersion: 17, database: "fleetdemo" };

const pgService: BackupServiceOptions = {
  description: "PostgreSQL backup (pgBackRest)",
  user: "postgres",
  execStart: "/usr/local/sbin/django-fleet-backup",
  syslogIdentifier: "django-fleet-backup",
};

const timer: BackupTimerOptions = { description: "PostgreSQL backup (pgBackRest)", onCalendar: "*-*-* 03:00:00" };

/** Everything rendered with the test secrets, by kind. */
function renderAll(): { secretFiles: Record<string, string>; plainFiles: Record<string, string> } {
  return {
    secretFiles: {
      "pgbackrest.conf": renderPgBackRestConf({ ...pgConf, caFile: "/etc/django-fleet/object-store-ca.pem", pathStyle: true }),
      "restic.env": renderResticEnv(resticEnv),
    },
    plainFiles: {
      "backup service": renderBackupService(pgService),
      "backup timer": renderBackupTimer({ ...timer, randomizedDelaySeconds: 900 }),
      "pg backup script": renderPgBackupScript({ stanza: "django-fleet", retention: RETENTION, planner: PLANNER }),
      "mariadb backup script": renderMariaDbBackupScript(mariaBackup),
      "mariadb backup script, one database": renderMariaDbBackupScript({ ...mariaBackup, database: "fleetdemo", pathStyle: false }),
      "restore drill": renderPgRestoreDrillScript(drill),
    },
  };
}

/** A rendered config/unit: the notice first, one trailing newline. */
function expectWellFormed(out: string): void {
  expect(out.split("\n")[0]).toBe(`# ${MANAGED_NOTICE}`);
  expect(out.endsWith("\n")).toBe(true);
  expect(out.endsWith("\n\n")).toBe(false);
}

/** A rendered script: bash shebang, the notice, strict mode, and bash parses it whole. */
function expectScript(out: string): void {
  const lines = out.split("\n");
  expect(lines[0]).toBe("#!/bin/bash");
  expect(lines[1]).toBe(`# ${MANAGED_NOTICE}`);
  expect(lines).toContain("set -euo pipefail");
  expect(out.endsWith("\n")).toBe(true);
  const check = spawnSync("bash", ["-n"], { input: out, encoding: "utf8" });
  expect(check.stderr).toBe("");
  expect(check.status).toBe(0);
}

function goldenTable<T>(cases: ReadonlyArray<readonly [string, T]>, render: (o: T) => string, kind: "file" | "script"): void {
  it.each(cases.map(([name, options]) => ({ name, options })))("$name", ({ name, options }) => {
    const out = render(options);
    if (kind === "script") expectScript(out);
    else expectWellFormed(out);
    expect(render(options)).toBe(out);
    expectGolden(name, out);
  });
}

/** pgBackRest's ini reading: split at the first `=`, trim both sides, `#` only at line start. */
function parsePgBackRestIni(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("[")) {
      section = line.slice(1, -1);
      continue;
    }
    const eq = line.indexOf("=");
    out.set(`${section}.${line.slice(0, eq).trim()}`, line.slice(eq + 1).trim());
  }
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), "fleet-backup-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("renderPgBackRestConf", () => {
  goldenTable<PgBackRestConfOptions>(
    [
      ["pgbackrest-conf-defaults", pgConf],
      [
        "pgbackrest-conf-custom",
        {
          ...pgConf,
          pgPath: "/var/lib/postgresql/15/main",
          pgPort: 5433,
          endpoint: "198.18.0.1",
          port: 9000,
          pathStyle: true,
          caFile: "/etc/django-fleet/object-store-ca.pem",
          processMax: 4,
          archiveRetentionFulls: 3,
        },
      ],
    ],
    renderPgBackRestConf,
    "file",
  );

  it("reads back, as pgBackRest parses it, to exactly the options given", () => {
    const ini = parsePgBackRestIni(renderPgBackRestConf({ ...pgConf, caFile: "/etc/ca.pem", pathStyle: true, port: 9000 }));
    expect(Object.fromEntries(ini)).toEqual({
      "global.repo1-type": "s3",
      "global.repo1-path": "/django-fleet/prod/pgbackrest",
      "global.repo1-s3-endpoint": "s3.example.net",
      "global.repo1-storage-port": "9000",
      "global.repo1-s3-bucket": "fleet-backups",
      "global.repo1-s3-region": "eu-central-1",
      "global.repo1-s3-uri-style": "path",
      "global.repo1-storage-ca-file": "/etc/ca.pem",
      "global.repo1-s3-key": SECRETS.accessKeyId,
      "global.repo1-s3-key-secret": SECRETS.secretAccessKey,
      "global.repo1-cipher-type": "aes-256-cbc",
      "global.repo1-cipher-pass": SECRETS.cipherPass,
      "global.repo1-retention-full-type": "count",
      "global.repo1-retention-full": "9999999",
      "global.repo1-retention-archive-type": "full",
      "global.repo1-retention-archive": "7",
      "global.process-max": "2",
      "global.compress-type": "zst",
      "global.start-fast": "y",
      "global.log-level-console": "info",
      "global.log-level-file": "off",
      "global.log-level-stderr": "warn",
      "django-fleet.pg1-path": "/var/lib/postgresql/17/main",
      "django-fleet.pg1-port": "5432",
    });
  });

  it("defaults to host-style URLs, port 443 and the system CAs", () => {
    const out = renderPgBackRestConf(pgConf);
    expect(out).toContain("repo1-s3-uri-style=host\n");
    expect(out).toContain("repo1-storage-port=443\n");
    expect(out).not.toContain("ca-file");
  });

  const bad: ReadonlyArray<readonly [string, Partial<PgBackRestConfOptions>, RegExp]> = [
    ["a newline in the bucket", { bucket: "fleet\nrepo1-path=/x" }, /bucket/],
    ["an upper-case bucket", { bucket: "Fleet" }, /bucket/],
    ["a newline in the region", { region: "us-east-1\nx=y" }, /region/],
    ["an endpoint with a scheme", { endpoint: "https://s3.example.net" }, /endpoint/],
    ["an endpoint with a newline", { endpoint: "s3.example.net\nrepo1-type=posix" }, /endpoint/],
    ["a relative repo path", { repoPath: "django-fleet/prod" }, /repoPath/],
    ["a repo path with a space", { repoPath: "/django fleet" }, /repoPath/],
    ["a relative CA file", { caFile: "ca.pem" }, /caFile/],
    ["a stanza with ']'", { stanza: "fleet]" }, /stanza/],
    ["a pg path with '..'", { pgPath: "/var/lib/postgresql/../x" }, /pgPath/],
    ["port 0", { port: 0 }, /port/],
    ["processMax 0", { processMax: 0 }, /processMax/],
    ["archiveRetentionFulls 0 (pgBackRest's minimum is 1)", { archiveRetentionFulls: 0 }, /archiveRetentionFulls/],
    ["a newline in the secret key", { secretAccessKey: "abc\nrepo1-type=posix" }, /secretAccessKey/],
    ["a carriage return in the key id", { accessKeyId: "abc\r" }, /accessKeyId/],
    ["an empty cipher pass", { cipherPass: "" }, /cipherPass/],
    ["a cipher pass pgBackRest would trim", { cipherPass: " padded " }, /cipherPass/],
  ];
  it.each(bad.map(([name, patch, error]) => ({ name, patch, error })))("refuses $name", ({ patch, error }) => {
    expect(() => renderPgBackRestConf({ ...pgConf, ...patch })).toThrow(error);
  });

  it("never repeats a refused secret in its error", () => {
    const secret = "TOPSECRET-value\nx";
    for (const key of ["accessKeyId", "secretAccessKey", "cipherPass"] as const) {
      expect(() => renderPgBackRestConf({ ...pgConf, [key]: secret })).toThrow(/invalid/);
      try {
        renderPgBackRestConf({ ...pgConf, [key]: secret });
      } catch (e) {
        expect(String(e)).not.toContain("TOPSECRET");
      }
    }
  });
});

describe("backup units", () => {
  goldenTable<BackupServiceOptions>(
    [
      ["backup-service-postgres", pgService],
      ["backup-service-root", { description: "restore drill of the latest PostgreSQL backup", user: "root", execStart: "/usr/local/sbin/django-fleet-restore-drill --quiet", syslogIdentifier: "django-fleet-restore-drill" }],
    ],
    renderBackupService,
    "file",
  );
  goldenTable<BackupTimerOptions>(
    [
      ["backup-timer-defaults", timer],
      ["backup-timer-delay", { description: "MariaDB backup (mariadb-dump into restic)", onCalendar: "Mon..Fri *-*-* 01:30:00 UTC", randomizedDelaySeconds: 900 }],
    ],
    renderBackupTimer,
    "file",
  );

  it("the service is a low-priority oneshot without PrivateTmp (pgBackRest locks live in /tmp)", () => {
    const out = renderBackupService(pgService);
    for (const line of ["Type=oneshot", "User=postgres", "Nice=10", "IOSchedulingClass=idle", "ExecStart=/usr/local/sbin/django-fleet-backup", "SyslogIdentifier=django-fleet-backup"]) {
      expect(out).toContain(`\n${line}\n`);
    }
    expect(out).not.toContain("PrivateTmp");
    expect(out).not.toContain("[Install]");
  });

  it("the timer is persistent, wanted by timers.target, and randomizes only when asked", () => {
    const out = renderBackupTimer(timer);
    for (const line of ["OnCalendar=*-*-* 03:00:00", "Persistent=true", "WantedBy=timers.target"]) expect(out).toContain(`\n${line}\n`);
    expect(out).not.toContain("RandomizedDelaySec");
    expect(renderBackupTimer({ ...timer, randomizedDelaySeconds: 0 })).toBe(out);
    expect(renderBackupTimer({ ...timer, randomizedDelaySeconds: 600 })).toContain("\nRandomizedDelaySec=600\n");
  });

  it.each([
    ["daily"],
    ["*-*-* 03:00:00"],
    ["Sun *-*-* 04:30:00"],
    ["Mon..Fri 22:30"],
    ["*-*-1/2 00:00:00"],
    ["2026-*-* 03:00:00 Europe/Berlin"],
    ["*:0/15"],
  ])("accepts OnCalendar %j", (onCalendar) => {
    expect(renderBackupTimer({ ...timer, onCalendar })).toContain(`\nOnCalendar=${onCalendar}\n`);
  });

  it.each([
    ["empty", ""],
    ["a newline with a second key", "daily\nOnCalendar=minutely"],
    ["a specifier", "%H:00"],
    ["a shell metacharacter", "daily; reboot"],
    ["an option-like start", "-daily"],
    ["a quote", "'daily'"],
    ["a backslash continuation", "daily\\"],
    ["201 characters", `*-*-* 03:00:00${" ".repeat(187)}`],
  ])("refuses OnCalendar with %s", (_name, onCalendar) => {
    expect(() => renderBackupTimer({ ...timer, onCalendar })).toThrow(/onCalendar/);
  });

  it("refuses values that would change a unit's meaning", () => {
    expect(() => renderBackupService({ ...pgService, description: "backup\nExecStartPre=/bin/rm" })).toThrow(/description/);
    expect(() => renderBackupService({ ...pgService, description: "100% backup" })).toThrow(/description/);
    expect(() => renderBackupService({ ...pgService, description: "backup \\" })).toThrow(/description/);
    expect(() => renderBackupService({ ...pgService, user: "post gres" })).toThrow(/user/);
    expect(() => renderBackupService({ ...pgService, execStart: "django-fleet-backup" })).toThrow(/execStart/);
    expect(() => renderBackupService({ ...pgService, execStart: "/usr/local/sbin/backup $HOME" })).toThrow(/execStart argument 1/);
    expect(() => renderBackupService({ ...pgService, execStart: "/usr/local/sbin/backup %h" })).toThrow(/execStart argument 1/);
    expect(() => renderBackupService({ ...pgService, execStart: "/usr/local/sbin/backup\n[Install]" })).toThrow(/execStart/);
    expect(() => renderBackupService({ ...pgService, syslogIdentifier: "a b" })).toThrow(/syslogIdentifier/);
    expect(() => renderBackupTimer({ ...timer, randomizedDelaySeconds: -1 })).toThrow(/randomizedDelaySeconds/);
    expect(() => renderBackupTimer({ ...timer, description: "x\ny" })).toThrow(/description/);
  });
});

describe("renderPgBackupScript", () => {
  goldenTable(
    [
      ["pg-backup-script-defaults", { stanza: "django-fleet", retention: RETENTION, planner: PLANNER }],
      ["pg-backup-script-custom", { stanza: "shop", retention: { daily: 0, weekly: 8, monthly: 24 }, planner: "/opt/fleet/gfs.py" }],
    ],
    renderPgBackupScript,
    "script",
  );

  it("runs a full backup, then the planner with the counts, and refuses to run as another user", () => {
    const out = renderPgBackupScript({ stanza: "django-fleet", retention: RETENTION, planner: PLANNER });
    const backup = out.indexOf("\npgbackrest --stanza=django-fleet --type=full backup\n");
    const planner = out.indexOf(`\npython3 ${PLANNER} --stanza django-fleet --daily 7 --weekly 4 --monthly 6\n`);
    expect(backup).toBeGreaterThan(0);
    expect(planner).toBeGreaterThan(backup);
    expect(out).toContain('if [ "$(id -un)" != postgres ]; then');
  });

  it("refuses bad retention, stanza and planner", () => {
    const o = { stanza: "django-fleet", retention: RETENTION, planner: PLANNER };
    expect(() => renderPgBackupScript({ ...o, retention: { daily: 0, weekly: 0, monthly: 0 } })).toThrow(/keeps nothing/);
    expect(() => renderPgBackupScript({ ...o, retention: { ...RETENTION, weekly: -1 } })).toThrow(/retention\.weekly/);
    expect(() => renderPgBackupScript({ ...o, retention: { ...RETENTION, daily: 1.5 } })).toThrow(/retention\.daily/);
    expect(() => renderPgBackupScript({ ...o, stanza: "a;b" })).toThrow(/stanza/);
    expect(() => renderPgBackupScript({ ...o, planner: "gfs.py" })).toThrow(/planner/);
  });
});

describe("renderResticEnv", () => {
  goldenTable<ResticEnvOptions>(
    [
      ["restic-env-ca", resticEnv],
      [
        "restic-env-system-ca",
        { ...resticEnv, caFile: undefined, repository: "s3:https://s3.eu-central-1.amazonaws.com/fleet-backups/django-fleet/prod/restic", region: "eu-central-1" },
      ],
    ],
    renderResticEnv,
    "file",
  );

  it("reads back to the exact values through `set -a; . file`", () => {
    const file = join(tmp, "restic.env");
    writeFileSync(file, renderResticEnv(resticEnv));
    const names = ["RESTIC_REPOSITORY", "RESTIC_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "RESTIC_CACERT"];
    const out = execFileSync("bash", ["-c", `set -euo pipefail; set -a; . "$1"; set +a; for n in ${names.join(" ")}; do printf '%s\\0' "\${!n}"; done`, "-", file], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    expect(out.split("\0").slice(0, -1)).toEqual([
      resticEnv.repository,
      SECRETS.resticPassword,
      SECRETS.accessKeyId,
      SECRETS.secretAccessKey,
      "us-east-1",
      "/etc/django-fleet/object-store-ca.pem",
    ]);
  });

  const bad: ReadonlyArray<readonly [string, Partial<ResticEnvOptions>, RegExp]> = [
    ["an http repository", { repository: "s3:http://198.18.0.1:9000/b/p" }, /repository/],
    ["a repository without a prefix", { repository: "s3:https://198.18.0.1:9000/fleet-backups" }, /repository/],
    ["a repository with a trailing slash", { repository: "s3:https://198.18.0.1:9000/fleet-backups/x/" }, /repository prefix/],
    ["a newline in the repository", { repository: "s3:https://198.18.0.1:9000/fleet-backups/x\nRESTIC_PASSWORD=y" }, /restic repository .* is invalid/],
    ["a bad bucket", { repository: "s3:https://198.18.0.1:9000/Fleet_Backups/x" }, /repository bucket/],
    ["a bad port", { repository: "s3:https://198.18.0.1:99999/fleet-backups/x" }, /repository port/],
    ["a bad region", { region: "us east" }, /region/],
    ["a relative CA file", { caFile: "ca.pem" }, /caFile/],
    ["a newline in the password", { password: "pw\nRESTIC_REPOSITORY=x" }, /password/],
    ["an empty secret key", { secretAccessKey: "" }, /secretAccessKey/],
    ["a NUL in the key id", { accessKeyId: "a\0b" }, /accessKeyId/],
  ];
  it.each(bad.map(([name, patch, error]) => ({ name, patch, error })))("refuses $name", ({ patch, error }) => {
    expect(() => renderResticEnv({ ...resticEnv, ...patch })).toThrow(error);
  });
});

describe("renderMariaDbBackupScript", () => {
  goldenTable<MariaDbBackupScriptOptions>(
    [
      ["mariadb-backup-script-path-style", mariaBackup],
      ["mariadb-backup-script-one-database", { ...mariaBackup, pathStyle: false, database: "fleetdemo", retention: { daily: 3, weekly: 0, monthly: 12 } }],
    ],
    renderMariaDbBackupScript,
    "script",
  );

  it("dumps into restic with the snapshot host and tag, then forgets with the same selection", () => {
    const out = renderMariaDbBackupScript(mariaBackup);
    expect(out).toContain("\n. /etc/django-fleet/restic.env\n");
    expect(out).toContain("\nrestic_opts=(-o s3.bucket-lookup=path)\n");
    expect(out).toContain(
      `\nmariadb-dump --single-transaction --routines --events --all-databases | r backup --stdin --stdin-filename ${MARIADB_DUMP_FILENAME} --tag django-fleet --host django-fleet-mariadb --json >"$summary"\n`,
    );
    expect(out).toContain("\nr forget --tag django-fleet --host django-fleet-mariadb --keep-daily 7 --keep-weekly 4 --keep-monthly 6 --prune\n");
    expect(out).toContain("if r cat config >/dev/null 2>&1; then");
    expect(out).toContain('restic_opts+=(--cacert "$RESTIC_CACERT")');
    expect(out).toContain('r forget "$snapshot"');
  });

  it("without path style passes no lookup option; with a database dumps only it", () => {
    const out = renderMariaDbBackupScript({ ...mariaBackup, pathStyle: false, database: "fleetdemo" });
    expect(out).toContain("\nrestic_opts=()\n");
    expect(out).not.toContain("bucket-lookup");
    expect(out).toContain("mariadb-dump --single-transaction --routines --events --databases fleetdemo |");
  });

  it("refuses bad input", () => {
    expect(() => renderMariaDbBackupScript({ ...mariaBackup, envFile: "restic.env" })).toThrow(/envFile/);
    expect(() => renderMariaDbBackupScript({ ...mariaBackup, host: "db host" })).toThrow(/host/);
    expect(() => renderMariaDbBackupScript({ ...mariaBackup, host: "-x" })).toThrow(/host/);
    expect(() => renderMariaDbBackupScript({ ...mariaBackup, database: "a`b" })).toThrow(/database/);
    expect(() => renderMariaDbBackupScript({ ...mariaBackup, retention: { daily: 0, weekly: 0, monthly: 0 } })).toThrow(/keeps nothing/);
  });
});

describe("renderPgRestoreDrillScript", () => {
  goldenTable<PgRestoreDrillScriptOptions>(
    [
      ["pg-restore-drill-defaults", drill],
      [
        "pg-restore-drill-custom",
        { stanza: "shop", pgVersion: "15", database: "shop_db", port: 6543, scratchDir: "/srv/drill/scratch", resultFile: "/srv/drill/result.json" },
      ],
    ],
    renderPgRestoreDrillScript,
    "script",
  );

  it("restores by label with archiving off, into a socket-only copy that cannot archive", () => {
    const out = renderPgRestoreDrillScript(drill);
    expect(out).toContain(
      'as_pg pgbackrest --stanza=django-fleet --pg1-path=/var/lib/postgresql/django-fleet-drill --set="$label" --type=immediate --target-action=promote --archive-mode=off restore\n',
    );
    for (const line of ["port = 5499", "listen_addresses = ''", "unix_socket_directories = '/var/lib/postgresql/django-fleet-drill'", "archive_mode = off", "hot_standby = off"]) {
      expect(out).toContain(`\n${line}\n`);
    }
    expect(out).toContain("\nlocal all all peer\n");
    expect(out).toContain(
      "as_pg /usr/lib/postgresql/17/bin/pg_ctl -D /var/lib/postgresql/django-fleet-drill -l /var/lib/postgresql/django-fleet-drill/drill-server.log -w -t 600 start -o '-c config_file=/var/lib/postgresql/django-fleet-drill/postgresql.conf -c archive_mode=off'\n",
    );
    expect(out).toContain("\ntrap 'cleanup; rm -f -- \"$log\"' EXIT\n");
    expect(out).toContain("\nresult=/var/lib/django-fleet/restore-drill.json\n");
    expect(out).toContain("\ninstall -d -m 0755 /var/lib/django-fleet\n");
  });

  it("refuses a scratch directory that overlaps the cluster or is too shallow to wipe safely", () => {
    for (const scratchDir of ["/", "/var", "/var/lib", "/var/lib/postgresql", "/var/lib/postgresql/17", "/var/lib/postgresql/17/main", "/var/lib/postgresql/17/main/drill", "/var/lib/postgresql/17/"]) {
      expect(() => renderPgRestoreDrillScript({ ...drill, scratchDir })).toThrow(/scratchDir/);
    }
    expect(() => renderPgRestoreDrillScript({ ...drill, scratchDir: "/srv/drill/scratch" })).not.toThrow();
    expect(() => renderPgRestoreDrillScript({ ...drill, scratchDir: "/var/lib/postgresql/./17" })).toThrow(/scratchDir/);
    expect(() => renderPgRestoreDrillScript({ ...drill, scratchDir: "relative/dir/x" })).toThrow(/scratchDir/);
  });

  it("refuses bad input", () => {
    expect(() => renderPgRestoreDrillScript({ ...drill, pgVersion: "17; rm -rf /" })).toThrow(/pgVersion/);
    expect(() => renderPgRestoreDrillScript({ ...drill, pgVersion: 9 })).toThrow(/pgVersion/);
    expect(() => renderPgRestoreDrillScript({ ...drill, database: "host=evil" })).toThrow(/database/);
    expect(() => renderPgRestoreDrillScript({ ...drill, database: "my-db" })).toThrow(/database/);
    expect(() => renderPgRestoreDrillScript({ ...drill, port: 70000 })).toThrow(/port/);
    expect(() => renderPgRestoreDrillScript({ ...drill, resultFile: "result.json" })).toThrow(/resultFile/);
    expect(() => renderPgRestoreDrillScript({ ...drill, resultFile: "/result.json" })).toThrow(/resultFile/);
    expect(() => renderPgRestoreDrillScript({ ...drill, resultFile: "/var/lib/x/" })).toThrow(/resultFile/);
    expect(() => renderPgRestoreDrillScript({ ...drill, stanza: "x y" })).toThrow(/stanza/);
  });
});

describe("checkRetention", () => {
  it("keeps valid counts and refuses the rest", () => {
    expect(checkRetention("t", { daily: 0, weekly: 0, monthly: 1 })).toEqual({ daily: 0, weekly: 0, monthly: 1 });
    expect(() => checkRetention("t", { daily: 1001, weekly: 0, monthly: 0 })).toThrow(/t retention\.daily 1001/);
    expect(() => checkRetention("t", { daily: Number.NaN, weekly: 1, monthly: 1 })).toThrow(/retention\.daily/);
  });
});

describe("secrets", () => {
  const { secretFiles, plainFiles } = renderAll();

  it.each(Object.keys(plainFiles))("%s holds no secret", (name) => {
    const out = plainFiles[name] ?? "";
    expect(out.length).toBeGreaterThan(0);
    for (const secret of Object.values(SECRETS)) expect(out).not.toContain(secret);
  });

  it("the secrets are only in pgbackrest.conf and restic.env", () => {
    const conf = secretFiles["pgbackrest.conf"] ?? "";
    expect(conf).toContain(SECRETS.accessKeyId);
    expect(conf).toContain(SECRETS.secretAccessKey);
    expect(conf).toContain(SECRETS.cipherPass);
    expect(conf).not.toContain(SECRETS.resticPassword);
    const env = secretFiles["restic.env"] ?? "";
    expect(env).toContain(SECRETS.accessKeyId);
    expect(env).toContain("RESTIC_PASSWORD=\"restic-TEST_pw'Lm4\"");
    expect(env).not.toContain(SECRETS.cipherPass);
  });
});

describe("renderMediaBackupScript", () => {
  const media: MediaBackupScriptOptions = {
    envFile: "/etc/django-fleet/restic-media.env", host: "django-fleet-media", pathStyle: true,
    retention: { daily: 7, weekly: 4, monthly: 6 }, mediaRoot: "/srv/shop/public/media",
  };
  goldenTable<MediaBackupScriptOptions>([["media-backup-script", media]], renderMediaBackupScript, "script");

  it("backs the folder up after --, then forgets with the same selection; no folder yet is no error", () => {
    const out = renderMediaBackupScript(media);
    expect(out).toContain("\nr backup --tag django-fleet-media --host django-fleet-media -- /srv/shop/public/media\n");
    expect(out).toContain("\nr forget --tag django-fleet-media --host django-fleet-media --keep-daily 7 --keep-weekly 4 --keep-monthly 6 --prune\n");
    expect(out).toContain("does not exist yet (no upload so far): nothing to back up");
  });

  it.each([["a relative folder", { mediaRoot: "media" }, /mediaRoot/], ["a host with a space", { host: "a b" }, /host/]] as const)(
    "refuses %s", (_name, patch, error) => {
      expect(() => renderMediaBackupScript({ ...media, ...patch })).toThrow(error);
    });
});

describe("restoring uploads into MEDIA_ROOT, which the app's settings name", () => {
  it("restores into a folder of root's, hands the files over there, and lets the app user copy them in", () => {
    const dir = mkdtempSync(join(tmpdir(), "fleet-media-restore-"));
    const media = join(dir, "srv", "shop", "public", "media");
    execFileSync("mkdir", ["-p", media]);
    const log = join(dir, "log");
    // Stand-ins: restic's `r` writes one upload under --target; chown and runuser record themselves.
    const shims = [
      `r() { t="\${@: -1}"; mkdir -p "$t${media}"; echo photo > "$t${media}/a.jpg"; echo "restic $*" | sed "s|$t|TMP|" >> ${log}; }`,
      `chown() { echo "chown $*" | sed "s|$tmp|TMP|" >> ${log}; }`,
      `runuser() { echo "runuser $1 $2" >> ${log}; shift 3; "$@"; }`,
    ].join("\n");
    const body = [shims, ...mediaRestoreCommands(media, "shop", "django-fleet-media")].join("\n");
    const r = spawnSync("bash", ["-euo", "pipefail", "-c", body], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(execFileSync("cat", [join(media, "a.jpg")], { encoding: "utf8" })).toBe("photo\n");
    expect(execFileSync("cat", [log], { encoding: "utf8" }).trim().split("\n")).toEqual([
      "restic restore latest --host django-fleet-media --tag django-fleet-media --target TMP",
      `chown -R -P shop:shop -- TMP/${media.split("/")[1]}`,
      "runuser -u shop",
    ]);
    // Root never names MEDIA_ROOT itself in a command that writes: only the app user's cp does.
    expect(mediaRestoreCommands(media, "shop", "h").filter((l) => l.includes(media))).toEqual([`runuser -u shop -- cp -a -- "$tmp"${media}/. ${media}/`]);
    rmSync(dir, { recursive: true, force: true });
  });
});
