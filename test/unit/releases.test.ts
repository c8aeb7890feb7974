import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseHostFacts, parseOsRelease, pinnedFacts, RELEASES, releaseOf } from "../../config/releases.ts";
import { FACTS_SCRIPT } from "../../lib/hostFacts.ts";

// /etc/os-release as each system ships it.
const DEBIAN_12 = [
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
  'NAME="Debian GNU/Linux"',
  'VERSION_ID="12"',
  'VERSION="12 (bookworm)"',
  "VERSION_CODENAME=bookworm",
  "ID=debian",
  'HOME_URL="https://www.debian.org/"',
  'SUPPORT_URL="https://www.debian.org/support"',
  'BUG_REPORT_URL="https://bugs.debian.org/"',
  "",
].join("\n");
const DEBIAN_13 = [
  'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"',
  'NAME="Debian GNU/Linux"',
  'VERSION_ID="13"',
  'VERSION="13 (trixie)"',
  "VERSION_CODENAME=trixie",
  "DEBIAN_VERSION_FULL=13.1",
  "ID=debian",
  'HOME_URL="https://www.debian.org/"',
  "",
].join("\n");
const DEBIAN_11 = 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\nID=debian\n';
const DEBIAN_SID = 'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nNAME="Debian GNU/Linux"\nVERSION_CODENAME=trixie\nID=debian\n';
const UBUNTU_2404 = [
  'PRETTY_NAME="Ubuntu 24.04.1 LTS"',
  'NAME="Ubuntu"',
  'VERSION_ID="24.04"',
  'VERSION="24.04.1 LTS (Noble Numbat)"',
  "VERSION_CODENAME=noble",
  "ID=ubuntu",
  "ID_LIKE=debian",
  "",
].join("\n");
const RASPBIAN = 'PRETTY_NAME="Raspbian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=raspbian\nID_LIKE=debian\n';

describe("parseOsRelease", () => {
  it("reads quoted and unquoted values", () => {
    const r = parseOsRelease(DEBIAN_13);
    expect(r).toEqual({
      PRETTY_NAME: "Debian GNU/Linux 13 (trixie)",
      NAME: "Debian GNU/Linux",
      VERSION_ID: "13",
      VERSION: "13 (trixie)",
      VERSION_CODENAME: "trixie",
      DEBIAN_VERSION_FULL: "13.1",
      ID: "debian",
      HOME_URL: "https://www.debian.org/",
    });
  });

  it("reads single quotes, escapes, = in values, and skips comments, blanks and other lines", () => {
    const text = [
      "# a comment",
      "",
      "  ID=debian  ",
      "NAME='Debian GNU/Linux'",
      'PRETTY_NAME="The \\"best\\" one \\\\ ok"',
      'ANSI_COLOR="1;31"',
      "X_EQ=a=b",
      "python3=3.13.5",
      "not a line",
      "EMPTY=",
      'EMPTY_QUOTED=""',
    ].join("\n");
    expect(parseOsRelease(text)).toEqual({
      ID: "debian",
      NAME: "Debian GNU/Linux",
      PRETTY_NAME: 'The "best" one \\ ok',
      ANSI_COLOR: "1;31",
      X_EQ: "a=b",
      EMPTY: "",
      EMPTY_QUOTED: "",
    });
  });

  it("reads CRLF line ends", () => {
    expect(parseOsRelease('ID=debian\r\nVERSION_ID="12"\r\n')).toEqual({ ID: "debian", VERSION_ID: "12" });
  });

  it("keeps an unbalanced quote as written", () => {
    expect(parseOsRelease('NAME="Debian\n')).toEqual({ NAME: '"Debian' });
  });
});

describe("releaseOf", () => {
  it("accepts Debian 12", () => expect(releaseOf(parseOsRelease(DEBIAN_12))).toBe(RELEASES.debian12));
  it("accepts Debian 13", () => expect(releaseOf(parseOsRelease(DEBIAN_13))).toBe(RELEASES.debian13));

  const refused: Array<[string, Record<string, string>, string]> = [
    ["Debian 11", parseOsRelease(DEBIAN_11), "Debian GNU/Linux 11 (bullseye) is not a supported Debian release"],
    ["Debian sid (no VERSION_ID)", parseOsRelease(DEBIAN_SID), "Debian GNU/Linux trixie/sid is not a supported Debian release"],
    ["Ubuntu 24.04", parseOsRelease(UBUNTU_2404), "Ubuntu 24.04.1 LTS is not Debian"],
    ["Raspbian 12 (a derivative with Debian's VERSION_ID)", parseOsRelease(RASPBIAN), "Raspbian GNU/Linux 12 (bookworm) is not Debian"],
    ["no PRETTY_NAME", { ID: "fedora", VERSION_ID: "40" }, "fedora 40 is not Debian"],
    ["no PRETTY_NAME nor VERSION_ID", { ID: "alpine" }, "alpine is not Debian"],
    ["Debian without PRETTY_NAME, unknown version", { ID: "debian", VERSION_ID: "14" }, "debian 14 is not a supported Debian release"],
    ["an empty file", {}, "unknown is not Debian"],
  ];
  for (const [name, osRelease, message] of refused) {
    it(`refuses ${name}`, () => expect(releaseOf(osRelease)).toBe(message));
  }
});

describe("RELEASES", () => {
  it("describes Debian 12 and 13", () => {
    expect(RELEASES).toEqual({
      debian12: { id: "debian12", title: "Debian 12 (bookworm)", versionId: "12", codename: "bookworm", python: "3.11.2", postgresql: "15" },
      debian13: { id: "debian13", title: "Debian 13 (trixie)", versionId: "13", codename: "trixie", python: "3.13.5", postgresql: "17" },
    });
  });
});

describe("parseHostFacts", () => {
  it("reads Debian 13 and the host's python3", () => {
    expect(parseHostFacts(`${DEBIAN_13}python3=3.13.5\n`)).toEqual({ release: RELEASES.debian13, python: "3.13.5", apps: [] });
  });
  it("reads a python3 that differs from the release's", () => {
    expect(parseHostFacts(`${DEBIAN_12}python3=3.11.9\n`)).toEqual({ release: RELEASES.debian12, python: "3.11.9", apps: [] });
  });
  it("reads a two-part python3 version", () => {
    expect(parseHostFacts(`${DEBIAN_13}python3=3.13\n`)).toEqual({ release: RELEASES.debian13, python: "3.13", apps: [] });
  });
  it("takes the release's python when python3 is not installed (empty value)", () => {
    expect(parseHostFacts(`${DEBIAN_13}python3=\n`)).toEqual({ release: RELEASES.debian13, python: "3.13.5", apps: [] });
    expect(parseHostFacts(`${DEBIAN_12}python3=\n`)).toEqual({ release: RELEASES.debian12, python: "3.11.2", apps: [] });
  });
  it("takes the release's python when there is no python3 line", () => {
    expect(parseHostFacts(DEBIAN_12)).toEqual({ release: RELEASES.debian12, python: "3.11.2", apps: [] });
  });
  it("ignores a python3 line that is not a version", () => {
    expect(parseHostFacts(`${DEBIAN_13}python3=command not found\n`)).toEqual({ release: RELEASES.debian13, python: "3.13.5", apps: [] });
  });
  it("reads CRLF output", () => {
    expect(parseHostFacts(`${DEBIAN_13}python3=3.13.5\n`.replace(/\n/g, "\r\n"))).toEqual({ release: RELEASES.debian13, python: "3.13.5", apps: [] });
  });
  it("refuses Ubuntu with its name", () => {
    expect(parseHostFacts(`${UBUNTU_2404}python3=3.12.3\n`)).toBe("Ubuntu 24.04.1 LTS is not Debian");
  });
  it("refuses Debian 11 with its name", () => {
    expect(parseHostFacts(`${DEBIAN_11}python3=3.9.2\n`)).toBe("Debian GNU/Linux 11 (bullseye) is not a supported Debian release");
  });
});

describe("pinnedFacts", () => {
  it("gives Debian 12 with its python", () => expect(pinnedFacts("debian12")).toEqual({ release: RELEASES.debian12, python: "3.11.2" }));
  it("gives Debian 13 with its python", () => expect(pinnedFacts("debian13")).toEqual({ release: RELEASES.debian13, python: "3.13.5" }));
});

// The probe lib/hostFacts.ts runs on each host, run here against a fake os-release file.
describe("FACTS_SCRIPT output parses", () => {
  const dir = mkdtempSync(join(tmpdir(), "fleet-facts-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const osRelease = join(dir, "os-release");
  writeFileSync(osRelease, DEBIAN_13);
  const probe = FACTS_SCRIPT.replace("/etc/os-release", osRelease);

  it("reads the file it is pointed at", () => {
    expect(probe).not.toBe(FACTS_SCRIPT);
  });

  it("prints os-release, then python3=<the local python3's version>", () => {
    const local = execFileSync("python3", ["-c", "import platform; print(platform.python_version())"], { encoding: "utf8" }).trim();
    const out = execFileSync("bash", ["-euo", "pipefail", "-s"], { input: probe, encoding: "utf8" });
    expect(out).toBe(`${DEBIAN_13}python3=${local}\n`);
    expect(parseHostFacts(out)).toEqual({ release: RELEASES.debian13, python: local, apps: [] });
  });

  it("prints an empty python3= where python3 is missing, and the release's python is used", () => {
    const bin = join(dir, "bin");
    mkdirSync(bin);
    symlinkSync(execFileSync("bash", ["-c", "command -v cat"], { encoding: "utf8" }).trim(), join(bin, "cat"));
    const out = execFileSync("/bin/bash", ["-euo", "pipefail", "-s"], { input: probe, encoding: "utf8", env: { PATH: bin } });
    expect(out).toBe(`${DEBIAN_13}python3=\n`);
    expect(parseHostFacts(out)).toEqual({ release: RELEASES.debian13, python: "3.13.5", apps: [] });
  });
});
