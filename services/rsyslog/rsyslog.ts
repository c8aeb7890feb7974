import { isIP } from "node:net";
import {
  assertHost,
  assertInt,
  assertMatches,
  assertName,
  assertPath,
  assertPort,
  managedHeader,
  renderLines,
  stripTrailingSlash,
  withDefault,
} from "../../lib/render.ts";
import { SERVER_NAME, tlsFiles } from "./logTls.ts";

/** Options for {@link renderRsyslogServer}. */
export interface RsyslogServerOptions {
  /**
   * TCP port the central server listens on.
   * @default 10514
   */
  readonly port?: number;
  /**
   * Directory receiving `<hostname>/<programname>.log` per sender.
   * @default "/var/log/fleet"
   */
  readonly logDir?: string;
  /**
   * Hosts allowed to send, as IPs or CIDRs (`10.0.0.11`, `10.0.0.0/24`). At least one:
   * an open syslog port lets anyone fill the disk.
   */
  readonly allowedSenders: readonly string[];
  /** The server's TLS files. @default the paths in services/rsyslog/logTls.ts */
  readonly tls?: Partial<RsyslogTlsFiles>;
}

/**
 * TLS files rsyslog reads (gtls, GnuTLS). Logs travel only over TLS, both ends
 * authenticated by the stack's own CA.
 */
export interface RsyslogTlsFiles {
  /** The stack's CA certificate, the only CA trusted. @default "/etc/fleet-log-tls/ca.crt" */
  readonly caFile: string;
  /** This end's certificate. @default server: "/etc/fleet-log-tls/server.crt"; client: "/etc/fleet-log-tls/host.crt" */
  readonly certFile: string;
  /** This end's key (0600 root). @default server: "/etc/fleet-log-tls/server.key"; client: "/etc/fleet-log-tls/host.key" */
  readonly keyFile: string;
}

/** Options for {@link renderRsyslogClient}. */
export interface RsyslogClientOptions {
  /** Address (IP or DNS name) of the central log server. */
  readonly serverAddress: string;
  /**
   * TCP port of the central log server.
   * @default 10514
   */
  readonly port?: number;
  /**
   * Directory where the action queue spills to disk while the server is unreachable.
   * @default "/var/spool/rsyslog"
   */
  readonly queueDir?: string;
  /**
   * Log files the host's services write themselves (PostgreSQL, nginx, ...), read with
   * imfile and forwarded like the journal's lines. None: the snippet only forwards the
   * journal, exactly as before this option existed.
   * @default []
   */
  readonly files?: readonly RsyslogFileInput[];
  /**
   * The name the server's certificate must carry (checked, besides the CA's signature).
   * @default "logging.fleet"
   */
  readonly serverName?: string;
  /** The client's TLS files. @default the paths in services/rsyslog/logTls.ts */
  readonly tls?: Partial<RsyslogTlsFiles>;
}

/** One file for {@link RsyslogClientOptions.files}. */
export interface RsyslogFileInput {
  /**
   * The syslog tag, without the colon: it becomes the lines' `programname`, so the server
   * files them as `<logDir>/<host>/<tag>.log`. Letters, digits, `_` and `-`, at most 31
   * characters (RSYSLOG_ForwardFormat sends at most 32 of the tag, colon included).
   */
  readonly tag: string;
  /**
   * Absolute path of the file. `*` is allowed in the last segment only (imfile follows
   * every match, and files that appear later, in inotify mode).
   */
  readonly file: string;
}

const DEFAULT_PORT = 10514;

/** The TLS files, defaults filled and paths checked. */
function tlsFilesOf(what: string, given: Partial<RsyslogTlsFiles> | undefined, cert: string, key: string): RsyslogTlsFiles {
  return {
    caFile: assertPath(`${what} tls.caFile`, withDefault(given?.caFile, tlsFiles.ca)),
    certFile: assertPath(`${what} tls.certFile`, withDefault(given?.certFile, cert)),
    keyFile: assertPath(`${what} tls.keyFile`, withDefault(given?.keyFile, key)),
  };
}

/** Renders the central rsyslog server's `/etc/rsyslog.d/` snippet. */
export function renderRsyslogServer(o: RsyslogServerOptions): string {
  const port = assertPort("rsyslog server port", withDefault(o.port, DEFAULT_PORT));
  const logDir = stripTrailingSlash(assertPath("rsyslog server logDir", withDefault(o.logDir, "/var/log/fleet")));
  if (o.allowedSenders.length === 0) {
    throw new Error("rsyslog server allowedSenders is empty; list the fleet's host addresses");
  }
  const senders = o.allowedSenders.map((s, i) => checkSender(`rsyslog server allowedSenders[${i}]`, s));
  const tls = tlsFilesOf("rsyslog server", o.tls, tlsFiles.serverCert, tlsFiles.serverKey);
  return renderLines([
    managedHeader("#"),
    "",
    "# Remote hosts' logs, one file per host and program, over TLS only.",
    'module(load="imtcp")',
    // imtcp has no per-input ACL; this legacy directive is how senders are limited (TLS
    // or not), before any handshake.
    `$AllowedSender TCP, ${senders.join(", ")}`,
    "",
    // securepath="replace" turns "/" and ".." in sender-controlled fields into "_": no path traversal.
    'template(name="fleetRemoteFile" type="list") {',
    `    constant(value="${logDir}/")`,
    '    property(name="hostname" securepath="replace")',
    '    constant(value="/")',
    '    property(name="programname" securepath="replace")',
    '    constant(value=".log")',
    "}",
    "",
    // The input is bound to this ruleset, so remote lines never reach the default ruleset
    // (and so never /var/log/syslog); local logging is untouched.
    'ruleset(name="fleetRemote") {',
    "    action(",
    '        type="omfile"',
    '        dynaFile="fleetRemoteFile"',
    '        template="RSYSLOG_FileFormat"',
    // Many hosts x programs: a larger cache of open files avoids constant reopen churn.
    '        dynaFileCacheSize="256"',
    '        dirCreateMode="0755"',
    '        fileCreateMode="0640"',
    '        fileGroup="adm"',
    "    )",
    "    stop",
    "}",
    "",
    // TLS only (mode 1): a plain TCP client gets no session. x509/certvalid: a client
    // must present a certificate the stack's CA signed (only its hosts have one).
    "input(",
    '    type="imtcp"',
    `    port="${port}"`,
    '    ruleset="fleetRemote"',
    '    streamDriver.name="gtls"',
    '    streamDriver.mode="1"',
    '    streamDriver.authMode="x509/certvalid"',
    `    streamDriver.caFile="${tls.caFile}"`,
    `    streamDriver.certFile="${tls.certFile}"`,
    `    streamDriver.keyFile="${tls.keyFile}"`,
    ")",
  ]);
}

/** Renders a fleet host's `/etc/rsyslog.d/` snippet forwarding all its logs to the server. */
export function renderRsyslogClient(o: RsyslogClientOptions): string {
  const server = assertHost("rsyslog client serverAddress", o.serverAddress);
  const port = assertPort("rsyslog client port", withDefault(o.port, DEFAULT_PORT));
  const queueDir = stripTrailingSlash(assertPath("rsyslog client queueDir", withDefault(o.queueDir, "/var/spool/rsyslog")));
  const files = checkFileInputs(withDefault(o.files, []));
  const serverName = assertHost("rsyslog client serverName", withDefault(o.serverName, SERVER_NAME));
  const tls = tlsFilesOf("rsyslog client", o.tls, tlsFiles.hostCert, tlsFiles.hostKey);
  return renderLines([
    managedHeader("#"),
    "",
    ...fileInputLines(files),
    "# Forward every local message to the central log server over TLS; local files are kept as well.",
    "*.* action(",
    '    type="omfwd"',
    `    target="${server}"`,
    `    port="${port}"`,
    '    protocol="tcp"',
    // TLS only, with this host's certificate; the server must show a certificate from
    // the stack's CA carrying the server's name (another host's certificate will not do).
    '    StreamDriver="gtls"',
    '    StreamDriverMode="1"',
    '    StreamDriverAuthMode="x509/name"',
    `    StreamDriverPermittedPeers="${serverName}"`,
    `    StreamDriver.CAFile="${tls.caFile}"`,
    `    StreamDriver.CertFile="${tls.certFile}"`,
    `    StreamDriver.KeyFile="${tls.keyFile}"`,
    // Octet-counted framing keeps multi-line messages whole; imtcp detects it by itself.
    '    TCP_Framing="octet-counted"',
    '    template="RSYSLOG_ForwardFormat"',
    // Disk-assisted queue: lines wait in memory, spill to disk, and survive a server or
    // local restart (saveOnShutdown) until the server accepts them again.
    '    queue.type="LinkedList"',
    '    queue.filename="fleet_forward"',
    `    queue.spoolDirectory="${queueDir}"`,
    '    queue.maxDiskSpace="1g"',
    '    queue.saveOnShutdown="on"',
    // Retry forever rather than dropping lines after a few failures.
    '    action.resumeRetryCount="-1"',
    '    action.resumeInterval="10"',
    ")",
    ...(files.length === 0
      ? []
      : [
          "",
          // After the action above, so they are forwarded first.
          "# Lines read from the service files are kept in those files: forwarded, not copied to /var/log/syslog.",
          'if $inputname == "imfile" then stop',
        ]),
  ]);
}

/**
 * The imfile block of the client snippet: the module, then one input per file.
 *
 * - rsyslog on Debian runs as root (/etc/rsyslog.conf sets no `$PrivDropToUser`), so it
 *   can read the services' 0640 log files without joining their groups.
 * - The inputs are bound to no ruleset, so their lines go through the default ruleset,
 *   where the forward action below them sends them on with the journal's. On the logging
 *   host that action sends to the host itself, whose server ruleset files them.
 * - No `stateFile`: imfile keeps one state file per monitored file (named by inode, in
 *   the work directory), so each glob match and each rotated file keeps its own offset
 *   (a fixed stateFile would be shared by every match of a glob). A rotated file is read
 *   to its end, then the new one from its start; copytruncate rotation (PostgreSQL's)
 *   needs `reopenOnTruncate`.
 */
function fileInputLines(files: readonly RsyslogFileInput[]): string[] {
  if (files.length === 0) return [];
  return [
    "# Service log files: each line is tagged with its program and forwarded below.",
    // inotify is the default on Linux; explicit, since globs need it (polling re-scans).
    'module(load="imfile" mode="inotify")',
    ...files.flatMap((f) => [
      "input(",
      '    type="imfile"',
      `    File="${f.file}"`,
      `    Tag="${f.tag}:"`,
      '    reopenOnTruncate="on"',
      // Offsets are saved every 100 lines (and on shutdown): a crash resends at most that.
      '    persistStateInterval="100"',
      ")",
    ]),
    "",
  ];
}

/** Validates {@link RsyslogClientOptions.files}: safe tags and paths, no file read twice. */
function checkFileInputs(files: readonly RsyslogFileInput[]): RsyslogFileInput[] {
  const seen = new Set<string>();
  return files.map((f, i) => {
    const tag = assertName(`rsyslog client files[${i}].tag`, f.tag);
    if (tag.length > 31) {
      throw new Error(`rsyslog client files[${i}].tag ${JSON.stringify(tag)} is invalid: expected at most 31 characters`);
    }
    const file = checkLogFile(`rsyslog client files[${i}].file`, f.file);
    if (seen.has(file)) {
      throw new Error(`rsyslog client files[${i}].file ${JSON.stringify(file)} is listed twice; its lines would be sent twice`);
    }
    seen.add(file);
    return { tag, file };
  });
}

/** An absolute file path (no trailing slash) whose last segment may hold `*` wildcards. */
function checkLogFile(what: string, value: string): string {
  const slash = value.lastIndexOf("/");
  const dir = value.slice(0, slash + 1);
  const base = value.slice(slash + 1);
  assertPath(what, slash < 0 ? value : dir);
  assertMatches(what, base, /^[A-Za-z0-9._@+*-]+$/, "a file name of [A-Za-z0-9._@+*-] (a `*` in the last segment only)");
  if (base === "." || base === "..") {
    throw new Error(`${what} ${JSON.stringify(value)} is invalid: expected a file, not a directory`);
  }
  return value;
}

/** An IP or CIDR, as `$AllowedSender` takes them. */
function checkSender(what: string, value: string): string {
  const [ip, bits, ...rest] = value.split("/");
  const family = isIP(ip ?? "");
  const maxBits = family === 6 ? 128 : 32;
  if (family === 0 || rest.length > 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits))) {
    throw new Error(`${what} ${JSON.stringify(value)} is invalid: expected an IP address or CIDR`);
  }
  if (bits !== undefined) assertInt(`${what} prefix length`, Number(bits), 0, maxBits);
  // rsyslog wants IPv6 entries in brackets: [::1]/128.
  return family === 6 ? `[${ip}]${bits === undefined ? "" : `/${bits}`}` : value;
}
