/** A task of the Ansible peer's playbook, as data (yaml.ts writes it), and the prefix of the modules it uses. */
import type { Yaml } from "./yaml.ts";

export type Task = { readonly [key: string]: Yaml | undefined };

/** The collection of every module the playbook uses (`ansible.builtin.copy`, ...). */
export const B = "ansible.builtin";
