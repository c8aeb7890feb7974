/**
 * A RabbitMQ app account with its password on no command line (issue 21; lib/rabbitAccount.ts).
 * The hash is checked against RabbitMQ's published example and Node's crypto; the scripts
 * are RUN with bash and a PATH holding only recording stand-ins: rabbitmqctl (fake, with
 * definitions in a file) and every other command as a wrapper that logs its arguments and
 * runs the real one. A command the scripts start without a stand-in is not found and fails
 * the run, so the log holds every argv the scripts make, and the password is in none.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  accountDefinitions, BROKER_PASSWORD_VAR, RABBIT_HASHING, rabbitAccountCheck, rabbitAccountCreate,
  rabbitAccountDelete, rabbitAccountFunctions, rabbitAccountRead, rabbitAccountState,
} from "../../lib/rabbitAccount.ts";
import { withSecrets } from "../../providers/remoteScript.ops.ts";

const DIRS: string[] = [];
afterAll(() => { for (const d of DIRS) rmSync(d, { recursive: true, force: true }); });

/** A password no script may show; quotes, `$`, `%` and a backslash test the quoting too. */
const PW = "S3ntinel'pw\"$HOME%s\\x41-7f3a";
const OTHER = "changed-by-hand";

/** RabbitMQ's rabbit_password_hashing_sha256, in Node: the reference for the bash one. */
function rabbitHash(password: string, salt: Buffer): string {
  const digest = createHash("sha256").update(Buffer.concat([salt, Buffer.from(password, "utf8")])).digest();
  return Buffer.concat([salt, digest]).toString("base64");
}

/** Commands the scripts may run (besides rabbitmqctl): each a logging wrapper of the real one. */
const WRAPPED = ["cat", "timeout", "sha256sum", "base64", "od", "tr", "grep", "sed", "mktemp", "chmod", "rm"];

function realPath(name: string): string {
  const r = spawnSync("bash", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${name} is not installed`);
  return r.stdout.trim();
}

interface Host {
  /** Runs `body` with the password (or `password`) as the RemoteScript would send it. */
  run(body: string, password?: string): { code: number; stdout: string; stderr: string };
  /** Every command started: `name args`, rabbitmqctl's with ` [stdin=... parent=...]`. */
  calls(): string[];
  /** The last definitions file imported, and `<dir mode> <file mode>` as rabbitmqctl saw them. */
  imported(): { json: string; modes: string; path: string } | undefined;
  /** Sets what export_definitions prints. */
  setExport(json: string): void;
}

/**
 * A broker host: export_definitions prints `exportJson` with `@STORED@` replaced by the
 * hash RabbitMQ holds for shop (`stored`, then whatever an import sets, unless
 * `ignoreImports`). chgrp only records (there is no rabbitmq group here).
 */
function host(exportJson: string, opts: { stored?: string; ignoreImports?: boolean; exportFails?: boolean } = {}): Host {
  const dir = mkdtempSync(join(tmpdir(), "fleet-rabbit-"));
  DIRS.push(dir);
  const log = join(dir, "calls");
  writeFileSync(log, "");
  writeFileSync(join(dir, "export.json"), exportJson);
  writeFileSync(join(dir, "stored"), opts.stored ?? "");
  for (const name of WRAPPED) {
    const f = join(dir, name);
    writeFileSync(f, `#!/bin/bash\nprintf '%s\\n' "${name} $*" >> ${log}\nexec ${realPath(name)} "$@"\n`);
    chmodSync(f, 0o755);
  }
  writeFileSync(join(dir, "chgrp"), `#!/bin/bash\nprintf '%s\\n' "chgrp $*" >> ${log}\n`);
  chmodSync(join(dir, "chgrp"), 0o755);
  const [sed, cp, stat, readlink, cat] = ["sed", "cp", "stat", "readlink", "cat"].map(realPath) as [string, string, string, string, string];
  writeFileSync(join(dir, "rabbitmqctl"), [
    "#!/bin/bash",
    `printf '%s\\n' "rabbitmqctl $* [stdin=$(${readlink} /proc/$$/fd/0) parent=$(${cat} /proc/$PPID/comm)]" >> ${log}`,
    `case "$*" in`,
    `  "-q export_definitions -") ${opts.exportFails ? "exit 69" : `${sed} "s#@STORED@#$(${cat} ${dir}/stored)#" ${dir}/export.json`} ;;`,
    `  "-q import_definitions "*)`,
    `    ${cp} "$3" ${dir}/imported.json`,
    `    printf '%s\\n' "$3" > ${dir}/imported.path`,
    `    printf '%s %s\\n' "$(${stat} -c %a "\${3%/*}")" "$(${stat} -c %a "$3")" > ${dir}/imported.modes`,
    opts.ignoreImports ? "    :" : `    ${sed} -n 's/.*"password_hash":"\\([^"]*\\)".*/\\1/p' "$3" > ${dir}/stored`,
    "    ;;",
    `  "-q delete_user "*) ;;`,
    "  *) exit 64 ;;",
    "esac",
  ].join("\n") + "\n");
  chmodSync(join(dir, "rabbitmqctl"), 0o755);
  return {
    run(body, password = PW) {
      const r = spawnSync("/bin/bash", ["-euo", "pipefail", "-s"], {
        input: withSecrets(body, { [BROKER_PASSWORD_VAR]: password }), encoding: "utf8", env: { PATH: dir },
      });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    calls: () => readFileSync(log, "utf8").split("\n").filter((l) => l !== ""),
    imported() {
      if (!existsSync(join(dir, "imported.json"))) return undefined;
      const read = (f: string) => readFileSync(join(dir, f), "utf8").trim();
      return { json: read("imported.json"), modes: read("imported.modes"), path: read("imported.path") };
    },
    setExport: (json) => writeFileSync(join(dir, "export.json"), json),
  };
}

/** Users, as rabbitmqctl 4.0.5's export_definitions prints them (one compact line). */
interface User { name: string; hash: string; algorithm?: string; limits?: string }
const userJson = (u: User) =>
  `{"hashing_algorithm":"${u.algorithm ?? RABBIT_HASHING}","limits":${u.limits ?? "{}"},"name":"${u.name}","password_hash":"${u.hash}","tags":[]}`;
const permJson = (user: string, vhost: string, configure = ".*") =>
  `{"configure":"${configure}","read":".*","user":"${user}","vhost":"${vhost}","write":".*"}`;

/** A whole export: the blog app's account beside shop's, a queue named shop, a vhost with metadata. */
function exportOf(users: User[], permissions: string[]): string {
  return `{"bindings":[],"exchanges":[],"global_parameters":[{"name":"cluster_name","value":"rabbit@broker"}],` +
    `"parameters":[],"permissions":[${permissions.join(",")}],"policies":[],` +
    `"queues":[{"arguments":{"x-queue-type":"classic"},"auto_delete":false,"durable":true,"name":"shop","type":"classic","vhost":"shop"}],` +
    `"rabbit_version":"4.0.5","rabbitmq_version":"4.0.5","topic_permissions":[],` +
    `"users":[${users.map(userJson).join(",")}],` +
    `"vhosts":[{"limits":[],"metadata":{"description":"","tags":[]},"name":"shop"},{"limits":[],"metadata":{"description":"","tags":[]},"name":"blog"}]}`;
}

const SALT = Buffer.from("0a1b2c3d", "hex");
const blog: User = { name: "blog", hash: rabbitHash("blog-pw", SALT) };
const ours = (password = PW, extra: Partial<User> = {}): User => ({ name: "shop", hash: rabbitHash(password, SALT), ...extra });
const rights = [permJson("shop", "shop"), permJson("blog", "blog")];

describe("rabbit_hash: RabbitMQ's salted SHA-256, in bash", () => {
  const hashIn = (salt: string, password: string) => {
    const h = host("{}");
    const r = h.run([...rabbitAccountFunctions("shop"), `rabbit_hash ${salt}`].join("\n") + "\n", password);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    return r.stdout;
  };
  it("RabbitMQ's published example: test12, salt 908DC60A", () => {
    expect(hashIn("908dc60a", "test12")).toBe("kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR");
    expect(rabbitHash("test12", Buffer.from("908DC60A", "hex"))).toBe("kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR");
  });
  const table: Array<[string, string]> = [
    ["00000000", "nul bytes in the salt"],
    ["ff00ff00", "alternating"],
    ["7f800a0d", "a newline and a carriage return in the salt"],
    ["25732535", "%s%5 in the salt"],
  ];
  for (const [salt, password] of table) {
    it(`salt ${salt}, password "${password}"`, () => expect(hashIn(salt, password)).toBe(rabbitHash(password, Buffer.from(salt, "hex"))));
  }
  it("a password with quotes, $, %, a backslash and non-ASCII letters", () => {
    for (const p of [PW, "pässwörd-ß", "-n", "%s%d\\n", "a b\tc"]) expect(hashIn("deadbeef", p)).toBe(rabbitHash(p, Buffer.from("deadbeef", "hex")));
  });
});

describe("check: RabbitMQ holds our password (its hash, recomputed with its salt) and the vhost's rights", () => {
  const slashy = (() => {
    // A salt whose hash holds a /, which a JSON encoder may write as \/.
    for (let i = 0; ; i++) {
      const salt = Buffer.alloc(4); salt.writeUInt32BE(i);
      const hash = rabbitHash(PW, salt);
      if (hash.includes("/")) return hash.replaceAll("/", "\\/");
    }
  })();
  const cases: Array<[string, string, number]> = [
    ["our password", exportOf([blog, ours()], rights), 0],
    ["our password, keys in another order", exportOf([blog], rights).replace('"users":[', `"users":[{"tags":[],"password_hash":"${ours().hash}","name":"shop","limits":{"max-connections":10},"hashing_algorithm":"${RABBIT_HASHING}"},`), 0],
    ["our password, / written as \\/", exportOf([blog, { name: "shop", hash: slashy }], rights), 0],
    ["our password, the user with connection limits", exportOf([blog, ours(PW, { limits: '{"max-connections":10}' })], rights), 0],
    ["our password, the export printed pretty", JSON.stringify(JSON.parse(exportOf([blog, ours()], rights)), null, 2), 0],
    ["a password changed by hand", exportOf([blog, ours(OTHER)], rights), 1],
    ["a password changed by hand, the export printed pretty", JSON.stringify(JSON.parse(exportOf([blog, ours(OTHER)], rights)), null, 2), 1],
    ["our password under another hashing module", exportOf([blog, ours(PW, { algorithm: "rabbit_password_hashing_sha512" })], rights), 1],
    ["no user shop (blog has our password, shop2 too)", exportOf([{ name: "blog", hash: ours().hash }, { name: "shop2", hash: ours().hash }], rights), 1],
    ["no rights on its vhost", exportOf([blog, ours()], [permJson("blog", "blog")]), 1],
    ["rights on another vhost only", exportOf([blog, ours()], [permJson("shop", "blog")]), 1],
    ["narrowed rights", exportOf([blog, ours()], [permJson("shop", "shop", "^$")]), 1],
    ...([
      ['"tags":""', 0], ['"tags":[""]', 0], ["", 0],
      ['"tags":["administrator"]', 1], ['"tags":"administrator"', 1], ['"tags":["management","monitoring"]', 1], ['"tags":"management"', 1],
    ] as Array<[string, number]>).map(([tags, code]): [string, string, number] => [
      `our password, tags ${tags || "absent"}`,
      exportOf([blog, ours()], rights).replace(/("name":"shop","password_hash":"[^"]*"),"tags":\[\]/, tags ? `$1,${tags}` : "$1"),
      code,
    ]),
    ["a hash that is not base64 of 36 bytes", exportOf([blog, ours(PW, { hash: "c2hvcnQ=" })], rights), 1],
  ];
  for (const [name, json, code] of cases) {
    it(`${name} -> ${code}`, () => {
      const h = host(json);
      const r = h.run(rabbitAccountCheck("shop"));
      expect(r.code).toBe(code);
      expect(r.stdout + r.stderr).not.toContain(PW);
      expect(h.calls().filter((c) => c.startsWith("rabbitmqctl "))).toEqual(["rabbitmqctl -q export_definitions - [stdin=/dev/null parent=timeout]"]);
    });
  }
  it("export_definitions fails -> 1", () => {
    expect(host(exportOf([blog, ours()], rights), { exportFails: true }).run(rabbitAccountCheck("shop")).code).toBe(1);
  });
});

describe("create: one import of a root-and-rabbitmq-only file with a freshly salted hash, then the check", () => {
  const drifted = (opts: { ignoreImports?: boolean } = {}) =>
    host(exportOf([blog, { name: "shop", hash: "@STORED@" }], rights), { stored: rabbitHash(OTHER, SALT), ...opts });
  it("sets the password again: RabbitMQ's hash of our password, a new salt, our vhost and rights", () => {
    const h = drifted();
    const r = h.run(rabbitAccountCreate("shop"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const imported = h.imported()!;
    const defs = JSON.parse(imported.json) as { users: Array<{ password_hash: string }> };
    const hash = defs.users[0]!.password_hash;
    const salt = Buffer.from(hash, "base64").subarray(0, 4);
    expect(hash).toBe(rabbitHash(PW, salt));
    expect(JSON.parse(imported.json)).toEqual(JSON.parse(accountDefinitions("shop").replace("@HASH@", hash)));
    expect(defs).toMatchObject({
      users: [{ name: "shop", hashing_algorithm: RABBIT_HASHING, tags: "" }],
      vhosts: [{ name: "shop" }],
      permissions: [{ user: "shop", vhost: "shop", configure: ".*", write: ".*", read: ".*" }],
    });
    // The folder 0750 and the file 0640, both given to group rabbitmq (root's rabbitmqctl
    // reads it as user rabbitmq), and gone afterwards.
    expect(imported.modes).toBe("750 640");
    const folder = imported.path.replace(/\/account\.json$/, "");
    expect(h.calls()).toEqual(expect.arrayContaining([`chgrp rabbitmq -- ${folder}`, `chgrp rabbitmq -- ${imported.path}`]));
    expect(existsSync(folder)).toBe(false);
    // Import, guest, then the check's export; each rabbitmqctl bounded and off the script's stdin.
    expect(h.calls().filter((c) => c.startsWith("rabbitmqctl "))).toEqual([
      `rabbitmqctl -q import_definitions ${imported.path} [stdin=/dev/null parent=timeout]`,
      "rabbitmqctl -q delete_user guest [stdin=/dev/null parent=timeout]",
      "rabbitmqctl -q export_definitions - [stdin=/dev/null parent=timeout]",
    ]);
    // And the check now passes.
    expect(h.run(rabbitAccountCheck("shop")).code).toBe(0);
  });
  it("each run salts anew", () => {
    const h = drifted();
    h.run(rabbitAccountCreate("shop"));
    const first = h.imported()!.json;
    h.run(rabbitAccountCreate("shop"));
    expect(h.imported()!.json).not.toBe(first);
  });
  it("an import that did not take fails the step, naming the user, without the password", () => {
    const h = drifted({ ignoreImports: true });
    const r = h.run(rabbitAccountCreate("shop"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("RabbitMQ does not hold the password just set for user shop");
    expect(r.stderr).not.toContain(PW);
  });
});

describe("the password is on no command line", () => {
  const scripts: Array<[string, string]> = [
    ["create", rabbitAccountCreate("shop")], ["check", rabbitAccountCheck("shop")], ["delete", rabbitAccountDelete("shop")],
  ];
  for (const [name, body] of scripts) {
    it(`${name}: in the body sent on stdin, only in the variable's heredoc; the script hands it to printf alone`, () => {
      const sent = withSecrets(body, { [BROKER_PASSWORD_VAR]: PW });
      expect(sent.split(PW).length - 1).toBe(1);
      expect(sent.startsWith(`${BROKER_PASSWORD_VAR}=$(cat <<'FLEET_EOF'\n${PW}\nFLEET_EOF\n)\n`)).toBe(true);
      // Every use of the variable: printf, a bash builtin, writing it to a pipe.
      const uses = body.split("\n").filter((l) => l.includes(BROKER_PASSWORD_VAR));
      for (const l of uses) expect(l).toMatch(/\{ hex_bytes "\$1"; printf '%s' "\$BROKER_PASSWORD"; \} \| sha256sum\)/);
      expect(uses.length).toBe(name === "delete" ? 0 : 1);
    });
    it(`${name}: run, no command's arguments hold it, and every rabbitmqctl is bounded and off the script's stdin`, () => {
      const h = host(exportOf([blog, { name: "shop", hash: "@STORED@" }], rights), { stored: rabbitHash(name === "create" ? OTHER : PW, SALT) });
      const r = h.run(body);
      expect(r.code).toBe(0);
      const calls = h.calls();
      expect(calls.length).toBeGreaterThan(0);
      for (const c of calls) expect(c).not.toContain(PW);
      for (const c of calls.filter((x) => x.startsWith("rabbitmqctl "))) expect(c).toMatch(/ \[stdin=\/dev\/null parent=timeout\]$/);
      expect(calls.filter((c) => c.startsWith("timeout "))).toEqual(calls.filter((c) => c.startsWith("rabbitmqctl ")).map((c) => `timeout 60 ${c.replace(/ \[.*$/, "")}`));
    });
  }
});

describe("read: the account as RabbitMQ holds it, line by line, the password as matches or differs", () => {
  const WANT = rabbitAccountState("shop");
  const swap = (line: string, by: string) => WANT.replace(new RegExp(`^${line.replace(/[.*]/g, "\\$&")}$`, "m"), by);
  const tagged = (tags: string) => exportOf([blog, ours()], rights).replace(/("name":"shop","password_hash":"[^"]*"),"tags":\[\]/, tags ? `$1,${tags}` : "$1");
  const cases: Array<[string, string, string]> = [
    ["as wanted", exportOf([blog, ours()], rights), WANT],
    ["as wanted, the export printed pretty", JSON.stringify(JSON.parse(exportOf([blog, ours()], rights)), null, 2), WANT],
    ["as wanted, 3.10's tags as a string", tagged('"tags":""'), WANT],
    ["a password changed by hand", exportOf([blog, ours(OTHER)], rights), swap("password matches", "password differs")],
    ["our password under another hashing module", exportOf([blog, ours(PW, { algorithm: "rabbit_password_hashing_sha512" })], rights), swap("password matches", "password differs")],
    ["a tag given by hand", tagged('"tags":["management"]'), swap("user shop tags=none", "user shop tags=management")],
    ["tags given by hand, 3.10", tagged('"tags":"administrator"'), swap("user shop tags=none", "user shop tags=administrator")],
    ["two tags", tagged('"tags":["management","monitoring"]'), swap("user shop tags=none", "user shop tags=management,monitoring")],
    ["narrowed rights", exportOf([blog, ours()], [permJson("shop", "shop", "^$"), permJson("blog", "blog")]),
      swap("permissions shop on vhost shop configure=.* write=.* read=.*", "permissions shop on vhost shop configure=^$ write=.* read=.*")],
    ["no rights on its vhost", exportOf([blog, ours()], [permJson("blog", "blog")]), swap("permissions shop on vhost shop configure=.* write=.* read=.*", "permissions shop on vhost shop absent")],
    ["the user gone", exportOf([blog], rights), ["vhost shop present", "user shop absent", "permissions shop on vhost shop configure=.* write=.* read=.*", "user guest absent"].join("\n")],
    ["the vhost gone (its queue and rights left in the export)", exportOf([blog, ours()], rights).replace('{"limits":[],"metadata":{"description":"","tags":[]},"name":"shop"},', ""), swap("vhost shop present", "vhost shop absent")],
    ["guest back", exportOf([blog, ours(), { name: "guest", hash: rabbitHash("guest", SALT) }], rights), swap("user guest absent", "user guest present")],
  ];
  for (const [name, json, want] of cases) {
    it(name, () => {
      const h = host(json);
      const r = h.run(rabbitAccountRead("shop"));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(want);
      expect(r.stdout).not.toContain(PW);
      for (const c of h.calls()) expect(c).not.toContain(PW);
      expect(h.calls().filter((c) => c.startsWith("rabbitmqctl "))).toEqual(["rabbitmqctl -q export_definitions - [stdin=/dev/null parent=timeout]"]);
    });
  }
  it("export_definitions fails: the read fails (refresh marks it)", () => {
    expect(host(exportOf([blog, ours()], rights), { exportFails: true }).run(rabbitAccountRead("shop")).code).not.toBe(0);
  });
  it("the wanted state, as the preview shows it", () => {
    expect(WANT).toBe([
      "vhost shop present", "user shop present", "user shop tags=none",
      "permissions shop on vhost shop configure=.* write=.* read=.*", "password matches", "user guest absent",
    ].join("\n"));
  });
});
