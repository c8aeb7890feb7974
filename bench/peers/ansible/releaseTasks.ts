/** The Ansible peer's tasks of a release (checkout, virtualenv, `current`), and the command line manage.py runs with. */
import type { PeerStack, ReleaseStep, UserStep } from "../types.ts";
import { notify } from "./handlers.ts";
import { B, type Task } from "./task.ts";

function asApp(stack: PeerStack): { become: true; become_user: string } {
  return { become: true, become_user: stack.app.user };
}

/** The manage.py argv, with the units' environment file (as the units and django-fleet run it). */
export function manageArgv(stack: PeerStack, source: string, venv: string, args: string[]): string[] {
  return [
    "systemd-run", "--quiet", "--wait", "--pipe", "--collect",
    "-p", `User=${stack.app.user}`, "-p", `Group=${stack.app.user}`,
    "-p", `EnvironmentFile=${stack.app.envFile}`, "-p", `WorkingDirectory=${source}`,
    `${venv}/bin/python`, "manage.py", ...args,
  ];
}

export function releaseTasks(stack: PeerStack, s: ReleaseStep): Task[] {
  const n = notify(stack, "release");
  const v = s.virtualenv;
  const home = stack.steps.find((x): x is UserStep => x.kind === "user")!.home;
  if (v.method !== "pip" || !v.requirementsFile) throw new Error(`the Ansible peer installs with pip from a requirements file; this project uses ${v.method}`);
  return [
    {
      name: `folder of release ${s.releaseId}`,
      [`${B}.file`]: { path: s.checkout.dir, state: "directory", owner: s.user, group: s.user, mode: "0750" },
    },
    {
      name: `checkout of ${s.checkout.commit}`,
      [`${B}.git`]: { repo: s.checkout.repo, dest: s.checkout.source, version: s.checkout.commit },
      ...asApp(stack), ...n,
    },
    {
      name: "virtualenv",
      [`${B}.command`]: { argv: ["python3", "-m", "venv", "--", v.venv], creates: `${v.venv}/bin/python` },
      ...asApp(stack),
    },
    {
      name: `Python packages from ${v.requirementsFile}`,
      [`${B}.command`]: {
        argv: [`${v.venv}/bin/pip`, "install", "--progress-bar", "off", ...(v.requireHashes ? ["--require-hashes"] : []), "-r", v.requirementsFile],
        chdir: s.checkout.source,
      },
      environment: { HOME: home, PIP_CACHE_DIR: v.pipCache, PIP_DISABLE_PIP_VERSION_CHECK: "1" },
      register: "pip_install",
      changed_when: "'Successfully installed' in pip_install.stdout",
      ...asApp(stack), ...n,
    },
    {
      name: "release built",
      [`${B}.file`]: { path: s.builtMarker, state: "touch", owner: s.user, group: s.user, mode: "0644", modification_time: "preserve", access_time: "preserve" },
    },
    {
      name: `current release is ${s.releaseId}`,
      [`${B}.file`]: { src: s.current.target, dest: s.current.link, state: "link" },
      ...n,
    },
  ];
}
