/**
 * Further commits of the sample app (examples/app, published by scripts/publish-example as
 * branch `main` of GIT_ROOT/fleetdemo.git), for deploy tests and the deploy benchmark:
 *
 * - `v2`: a good release, visible on the home page (`<p id="release">release v2</p>`),
 *   requirements unchanged;
 * - `unhealthy`: imports and serves `/` as before, but `/healthz` answers HTTP 500;
 * - `importError`: `fleetdemo/wsgi.py` raises on import, so gunicorn cannot boot a worker.
 *   Only the WSGI module breaks: `manage.py` (migrate, collectstatic) and Celery never
 *   import it, so the release builds and fails exactly at the switch.
 *
 * Each is one commit on top of `main`, pushed to its own branch (`v2`, `unhealthy`,
 * `importerror`). Like publish-example the commits are deterministic (fixed author and
 * date, one per variant, later than main's), so the same main gives the same commits and a
 * re-run pushes nothing new.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Variant = "v2" | "unhealthy" | "importError";
export const VARIANTS: readonly Variant[] = ["v2", "unhealthy", "importError"];

/** One text edit of one file; `edit` throws when the file no longer looks as expected. */
export interface FileEdit {
  /** Path inside the repository. */
  readonly path: string;
  readonly edit: (content: string) => string;
}

export interface VariantSpec {
  /** The branch it is pushed to (git://198.18.0.1/fleetdemo.git, ref `<branch>`). */
  readonly branch: string;
  /** Author and committer date (main's is 2026-01-01T00:00:00Z). */
  readonly date: string;
  readonly message: string;
  readonly edits: readonly FileEdit[];
}

/** Replaces the single occurrence of `anchor` in `content` (in `path`) with `by`. */
function replaceOnce(path: string, content: string, anchor: string, by: string): string {
  const at = content.indexOf(anchor);
  if (at < 0 || content.indexOf(anchor, at + 1) >= 0) {
    throw new Error(`${path}: expected exactly one ${JSON.stringify(anchor)} (examples/app changed? update test/helpers/appCommits.ts)`);
  }
  return content.slice(0, at) + by + content.slice(at + anchor.length);
}

/** The marker v2's home page carries (the end-to-end tests and the benchmark grep for it). */
export const V2_MARKER = '<p id="release">release v2</p>';

export const VARIANT_SPECS: Readonly<Record<Variant, VariantSpec>> = {
  v2: {
    branch: "v2",
    date: "2026-01-02T00:00:00Z",
    message: "fleetdemo: release v2 (the home page says so)",
    edits: [{
      path: "notes/templates/notes/index.html",
      edit: (c) => replaceOnce("notes/templates/notes/index.html", c, "<h1>fleetdemo</h1>\n", `<h1>fleetdemo</h1>\n  ${V2_MARKER}\n`),
    }],
  },
  unhealthy: {
    branch: "unhealthy",
    date: "2026-01-03T00:00:00Z",
    message: "fleetdemo: /healthz answers 500 (a release that fails its health check)",
    edits: [{
      path: "notes/views.py",
      edit: (c) => replaceOnce("notes/views.py", c, "def healthz(request):\n",
        "def healthz(request):\n" +
        "    # On purpose: this release fails its health check (django-fleet's deploy tests).\n" +
        "    return HttpResponse(\"unhealthy release\\n\", status=500, content_type=\"text/plain\")\n"),
    }],
  },
  importError: {
    branch: "importerror",
    date: "2026-01-04T00:00:00Z",
    message: "fleetdemo: the WSGI module raises on import (a release gunicorn cannot boot)",
    edits: [{
      path: "fleetdemo/wsgi.py",
      edit: (c) => replaceOnce("fleetdemo/wsgi.py", c, "application = get_wsgi_application()\n",
        "# On purpose: this release cannot be imported (django-fleet's deploy tests).\n" +
        "raise RuntimeError(\"fleetdemo.wsgi: broken release\")\n\n" +
        "application = get_wsgi_application()\n"),
    }],
  },
};

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync("git", args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/**
 * Commits `variant` on top of `main` of `${gitRoot}/fleetdemo.git`, pushes it to the
 * variant's branch (forced) and returns the commit id.
 */
export function publishVariant(gitRoot: string, variant: Variant): string {
  const spec = VARIANT_SPECS[variant];
  if (!spec) throw new Error(`unknown variant ${JSON.stringify(variant)} (known: ${VARIANTS.join(", ")})`);
  const bare = join(gitRoot, "fleetdemo.git");
  const work = mkdtempSync(join(tmpdir(), "fleet-variant-"));
  try {
    git(work, ["clone", "-q", "--branch", "main", "--single-branch", bare, "."]);
    for (const e of spec.edits) {
      const file = join(work, e.path);
      writeFileSync(file, e.edit(readFileSync(file, "utf8")));
    }
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: "django-fleet", GIT_AUTHOR_EMAIL: "fleet@localhost",
      GIT_COMMITTER_NAME: "django-fleet", GIT_COMMITTER_EMAIL: "fleet@localhost",
      GIT_AUTHOR_DATE: spec.date, GIT_COMMITTER_DATE: spec.date,
    };
    git(work, ["add", "-A"]);
    git(work, ["-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", spec.message], env);
    git(work, ["push", "-q", "--force", bare, `HEAD:refs/heads/${spec.branch}`]);
    return git(bare, ["rev-parse", `refs/heads/${spec.branch}`]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
