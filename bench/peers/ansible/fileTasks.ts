/** The Ansible peer's tasks that copy the rendered files (kept under files/<host>/ in the project). */
import { fileById } from "../render.ts";
import type { PeerStack, UserStep } from "../types.ts";
import { notify } from "./handlers.ts";
import { B, type Task } from "./task.ts";

/** Where a host's rendered file sits in the project (`copy` reads it from there). */
export function projectFilePath(host: string, path: string): string {
  return `files/${host}${path}`;
}

/**
 * Folders the Debian packages of the dev stack make (and systemd's): a file copied into
 * one needs no folder task. `copy` makes no folder; django-fleet's RemoteFile makes a
 * missing one 0755, as `file` does here.
 */
const PACKAGE_DIRS = [/^\/etc\/systemd\/system$/, /^\/etc\/rsyslog\.d$/, /^\/etc\/logrotate\.d$/, /^\/etc\/nginx\/sites-(?:enabled|available)$/,
  /^\/etc\/rabbitmq$/, /^\/etc\/postgresql\/\d+\/main(?:\/conf\.d)?$/];

function parentDir(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/** The rendered files of one step, each copied with its mode and owner; the env file without showing its content. */
export function fileTasks(stack: PeerStack, ids: readonly string[]): Task[] {
  const layout = stack.steps.find((x): x is UserStep => x.kind === "user");
  const made = new Set(layout?.dirs.map((d) => d.path) ?? []);
  const dirs = [...new Set(ids.map((id) => parentDir(fileById(stack, id).path)))]
    .filter((d) => !made.has(d) && !PACKAGE_DIRS.some((re) => re.test(d)));
  const folders: Task[] = dirs.length === 0 ? [] : [{
    name: `folder${dirs.length > 1 ? "s" : ""} ${dirs.join(", ")}`,
    [`${B}.file`]: dirs.length === 1 ? { path: dirs[0]!, state: "directory" } : { path: "{{ item }}", state: "directory" },
    ...(dirs.length > 1 ? { loop: dirs } : {}),
  }];
  return [...folders, ...ids.map((id) => {
    const f = fileById(stack, id);
    return {
      name: f.path,
      [`${B}.copy`]: { src: projectFilePath("{{ inventory_hostname }}", f.path), dest: f.path, owner: f.owner, group: f.group, mode: f.mode },
      ...(f.secret ? { no_log: true } : {}),
      ...notify(stack, id),
    };
  })];
}
