/**
 * The Ansible peer's handlers: which units a task restarts or reloads when it changed
 * something (`notify`), from the render's triggers (`restartOn`, `reloadOn`), and the
 * handlers themselves.
 */
import type { PeerStack, ServiceStep } from "../types.ts";
import { B, type Task } from "./task.ts";

function handlerNames(stack: PeerStack, id: string): string[] {
  const services = stack.steps.filter((s): s is ServiceStep => s.kind === "service");
  return [
    ...(services.some((s) => s.ownUnitFile === id) ? ["reload systemd"] : []),
    ...services.filter((s) => s.reloadOn.includes(id)).map((s) => `reload ${s.unit}`),
    ...services.filter((s) => s.restartOn.includes(id)).map((s) => `restart ${s.unit}`),
  ];
}

export function notify(stack: PeerStack, id: string): { notify?: string[] } {
  const names = handlerNames(stack, id);
  return names.length ? { notify: names } : {};
}

/** The handlers, in the order Ansible runs them: systemd re-reads units first; a reload before a restart. */
export function handlers(stack: PeerStack): Task[] {
  const services = stack.steps.filter((s): s is ServiceStep => s.kind === "service");
  return [
    { name: "reload systemd", [`${B}.systemd_service`]: { daemon_reload: true } },
    ...services.flatMap((s) => [
      ...(s.reloadOn.length ? [{ name: `reload ${s.unit}`, [`${B}.systemd_service`]: { name: s.unit, state: "reloaded" } }] : []),
      ...(s.restartOn.length ? [{ name: `restart ${s.unit}`, [`${B}.systemd_service`]: { name: s.unit, state: "restarted" } }] : []),
    ]),
  ];
}

export const flush: Task = { name: "apply pending restarts and reloads", [`${B}.meta`]: "flush_handlers" };
