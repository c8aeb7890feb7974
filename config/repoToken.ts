/**
 * An app's repository token (`app.repoToken`): only as a Pulumi secret, and in the shape
 * git's credential helpers take (lib/gitCredential.ts). Pure.
 */
import type { RepoCredential } from "../lib/gitCredential.ts";
import { plainInStackFile } from "./objectStore.ts";

/** What of an app these rules read. */
export interface TokenApp {
  /** `app` or `apps[i]`. */
  readonly key: string;
  readonly repoToken?: string | undefined;
  readonly repoUser: string;
}

/** The app's credential for git, or none. */
export function repoCredential(app: TokenApp): RepoCredential | undefined {
  return app.repoToken === undefined ? undefined : { user: app.repoUser, token: app.repoToken };
}

/**
 * A token written in plain text in Pulumi.<stack>.yaml is refused: it would sit readable
 * in the repository and in the program's config. `isSecret` answers for a top-level key
 * (`django-fleet:app`), which Pulumi marks secret when any value under it is; so the
 * stack's config file (`stackFile`, when it is there) is read for the token itself too.
 */
export function plainRepoTokenProblems(apps: readonly TokenApp[], isSecret: (key: string) => boolean, stackFile?: string): string[] {
  const problems: string[] = [];
  for (const a of apps) {
    if (a.repoToken === undefined) continue;
    const top = a.key.startsWith("apps[") ? "apps" : "app";
    const plain = !isSecret(`django-fleet:${top}`) || (stackFile !== undefined && plainInStackFile(stackFile, top, "repoToken"));
    if (plain) problems.push(`${a.key}.repoToken: is stored in plain text in the stack's config. Fix: \`npm run pulumi -- config set --secret --path '${a.key}.repoToken' <token>\``);
  }
  return problems;
}
