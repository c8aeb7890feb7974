/**
 * What the dev stack makes on its one host (renderPeerStack), or a fleet of one app on a
 * core host and app hosts (renderPeerFleet: the benchmark's part 4), as plain data, so
 * that two other engines (an Ansible playbook, bash scripts over SSH: bench/peers/) can
 * make the same end state and be timed against django-fleet. Pure: config in, data out;
 * nothing here reaches a host, reads a file or runs git.
 *
 * Every config file is rendered by the functions the components call (services/<service>/*.ts,
 * config/*.ts), so the files are byte for byte the dev stack's; test/unit/peersRender.test.ts
 * proves it against the program itself (index.ts under Pulumi mocks). Which host runs what,
 * where each service listens, who migrates, the upstreams and our files' paths are read
 * from the fleet's plan (plan/fleetPlan.ts), whose functions the components call too; the
 * app's folders from services/app/appLayout.ts's `appLayout`, which its layout script is
 * built from. Nothing here copies a value a component computes.
 *
 * What the program reads from the world before it registers anything is an input here:
 * the commit the ref resolves to, the generated secrets, the host's Debian release, how
 * the project installs (read from its repository) and where its settings put static and
 * media files (read on the host by a settings probe). The defaults are the sample app's
 * (examples/app served as fleetdemo.git) on Debian 13, as test/e2e/dev.test.ts deploys it.
 *
 * This file reads the fleet's plan and runs the waves; each host's steps come from one
 * group a file in render/ (render/context.ts: what each is given). The data's types are
 * types.ts, the inputs' inputs.ts, the sample app's defaults sampleApp.ts.
 */
import type { AppPlan } from "../../config/apps.ts";
import { parseConfig } from "../../config/load.ts";
import { mediaStore, type ObjectStore } from "../../config/objectStore.ts";
import { pinnedFacts, type HostFacts } from "../../config/releases.ts";
import { buildTopology, type Topology } from "../../config/topology.ts";
import { appPaths, releaseId, releasePaths } from "../../components/paths.ts";
import type { DjangoPaths } from "../../lib/djangoSettings.ts";
import { shortHash } from "../../lib/hash.ts";
import { sharedPathOf } from "../../lib/releaseShared.ts";
import { gunicornFiles } from "../../plan/files.ts";
import { planFleet } from "../../plan/fleetPlan.ts";
import { planOrder, wavesOf, type FleetOrder, type Stage } from "../../plan/order.ts";
import type { PeerFleetInputs, PeerInputs, PeerSecrets } from "./inputs.ts";
import { DEV_ROLES, FLEETDEMO_PROJECT, fleetdemoSettings, fleetStackConfig } from "./sampleApp.ts";
import type { PeerFleet, PeerStack, RenderedFile, Step } from "./types.ts";
import { appEnv, renderApp } from "./render/app.ts";
import { renderBaseline } from "./render/baseline.ts";
import { renderCelery } from "./render/celery.ts";
import type { FleetContext, HostContext } from "./render/context.ts";
import { renderDbBroker } from "./render/dbBroker.ts";
import { renderLogging } from "./render/logging.ts";
import { renderNginx } from "./render/nginx.ts";

/**
 * Renders the dev stack for one host: every file it writes, its packages, and its steps
 * in an order that respects the dev stack's dependencies (components wait for the
 * host's packages and firewall; the database and broker before the app's accounts; the
 * release, env file, collectstatic and migrate before gunicorn; the gate before Celery
 * and the load balancer's reload).
 */
export function renderPeerStack(i: PeerInputs): PeerStack {
  const fleet = renderPeerFleet({ ...i, hosts: [{ ...i.host, roles: DEV_ROLES }] });
  if (fleet.waves.length !== 1) throw new Error("the dev stack on one host is one run");
  return fleet.stacks[0]!;
}

/**
 * Renders a fleet of one app (the dev stack's app and broker) on `hosts`: each host's
 * files, packages and steps, as the program makes them for that host's roles, and the
 * waves the hosts run in. What the peers cover: PostgreSQL, RabbitMQ, no cache, no
 * backups, loadBalancer.tls none, uploads on disk (one app host) or in an object store.
 */
export function renderPeerFleet(i: PeerFleetInputs): PeerFleet {
  const stackName = i.stackName ?? "dev";
  const cfg = parseConfig(fleetStackConfig({ hosts: i.hosts, workers: i.workers, repo: i.repo, media: i.media }));
  const topo: Topology = buildTopology(cfg, {
    privateKeyPath: i.privateKeyPath ?? "/dev/null",
    hosts: i.hosts.map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey, ...(h.user ? { user: h.user } : {}), ...(h.port ? { port: h.port } : {}) })),
  });
  if (topo.deployments.length !== 1) throw new Error("the peers cover one app");
  if (cfg.database.engine !== "postgresql" || cfg.broker.kind !== "rabbitmq" || topo.cache || topo.dbReplicas.length || cfg.backup.target) {
    throw new Error("the peers cover PostgreSQL without replicas, RabbitMQ, no cache and no backups");
  }
  if (cfg.loadBalancer.tls !== "none") throw new Error("the peers cover loadBalancer.tls none (the dev stack's)");
  const d = topo.deployments[0]!;
  const app: AppPlan = d.app;
  const facts: HostFacts = pinnedFacts(i.release ?? "debian13");
  const project = i.project ?? FLEETDEMO_PROJECT;
  const commit = i.commit;
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new Error(`commit ${JSON.stringify(commit)} is not 40 hex digits`);
  const media = mediaStore(cfg, stackName);
  if (media?.caFile && i.media?.caPem === undefined) throw new Error("media.target.caFile is set: give its content as media.caPem");
  const p = appPaths(app.name);
  const r = releasePaths(app.name, commit);
  const code = { source: r.source, venv: r.venv };
  const s = i.secrets;
  // Who does what (plan/): the same decisions the components take.
  const fleetPlan = planFleet(cfg, topo, new Map(topo.hosts.map((h) => [h.name, facts])));
  const placement = fleetPlan.apps[0]!;
  if (placement.staticCopyTo) {
    throw new Error("the load balancer runs none of the app's code: the peers do not copy its static files there yet (give it the worker or app role)");
  }
  const lb = topo.loadBalancer;
  const migrator = topo.hosts.find((h) => h.name === placement.migrator)!;
  const url = `http://${(lb ?? migrator).address}/`;
  // Where the settings put static and media (AppRelease's probe, mapped as it maps them).
  const probed = i.settings ?? fleetdemoSettings(app.name);
  const mapPath = (v: string | null) => v ? sharedPathOf(app.name, commit, v).path : v;
  const settings: DjangoPaths = { ...probed, staticRoot: mapPath(probed.staticRoot), mediaRoot: mapPath(probed.mediaRoot) };
  if ([probed.staticRoot, probed.mediaRoot].some((v) => v && sharedPathOf(app.name, commit, v).rel)) {
    throw new Error("settings put static or media files inside the checkout: the peers do not make the shared links yet");
  }
  const dbApps = [{ database: app.database.name, user: app.database.user, clients: d.codeHosts }];
  const gunicornUnit = gunicornFiles(app).unit;
  const fleet: FleetContext = {
    cfg, topo, app, facts, commit, project, settings, secrets: s, media, mediaCaPem: i.media?.caPem,
    paths: p, release: r, code, dbApps,
  };

  const stages = new Map<string, Map<string, Stage>>();
  const stacks = topo.hosts.map((plan, n): PeerStack => {
    const hp = fleetPlan.hosts[n]!;
    const here = hp.apps.find((a) => a.app === app.name);
    const files: RenderedFile[] = [];
    const steps: Step[] = [];
    const stage = new Map<string, Stage>();
    stages.set(plan.name, stage);
    const h: HostContext = {
      ...fleet, plan, hp,
      add: (f) => { files.push(f); return f.id; },
      at: (n, ...more) => { for (const x of more) { steps.push(x); stage.set(x.id, n); } },
    };

    // In the order of the fleet's stages; each group puts its steps in theirs (render/*.ts).
    const packages = renderBaseline(h);
    renderLogging(h);
    renderDbBroker(h);
    const env = appEnv(h);
    if (here) {
      const envFile = renderApp(h, here, env);
      renderCelery(h, here, envFile);
    }
    renderNginx(h);

    return {
      host: plan,
      config: cfg,
      app: {
        name: app.name, user: app.name, port: app.port, commit, releaseId: releaseId(commit), repo: app.repo,
        envFile: p.envFile, gunicornUnit,
      },
      packages,
      files,
      env,
      steps,
      url,
      secretValues: secretValuesOf(s, media),
    };
  });

  return {
    config: cfg, topology: topo, stacks, waves: waves(stacks, stages, planOrder(fleetPlan, { signedLogs: false })),
    url, secretValues: secretValuesOf(s, media),
  };
}

function secretValuesOf(s: PeerSecrets, media: ObjectStore | undefined): string[] {
  return [s.djangoSecretKey, s.dbPassword, s.brokerPassword, ...(media ? [media.accessKeyId, media.secretAccessKey] : [])];
}

/**
 * The waves of {@link PeerFleet.waves}: the plan's order (plan/order.ts) as a plain tool
 * runs it, each host's run holding its steps of the stages it runs then; a run with no such
 * step is left out (the peers fold some of the program's steps into others: the release's
 * link switch is part of its build).
 */
function waves(stacks: readonly PeerStack[], stages: ReadonlyMap<string, ReadonlyMap<string, Stage>>, order: FleetOrder): PeerStack[][] {
  for (const st of stacks) {
    const planned = order.stages.get(st.host.name)!;
    const extra = [...new Set(stages.get(st.host.name)!.values())].filter((x) => !planned.includes(x));
    // A step in a stage the plan gives the host no room for would run out of order.
    if (extra.length) throw new Error(`peers: ${st.host.name} has steps in stages ${extra.join(", ")}, which the plan does not give it`);
  }
  // A host's code and what waits for it share one run: the peers restart a unit only for
  // what changed in the run that restarts it (a new release, the app's new user).
  return wavesOf(order, ["build", "switch", "consumers"]).map((wave) => wave.flatMap((run) => {
    const st = stacks.find((x) => x.host.name === run.host)!;
    const of = stages.get(run.host)!;
    const steps = st.steps.filter((x) => run.stages.includes(of.get(x.id)!));
    return steps.length ? [{ ...st, steps }] : [];
  })).filter((w) => w.length > 0);
}

/** A file by id. */
export function fileById(stack: PeerStack, id: string): RenderedFile {
  const f = stack.files.find((x) => x.id === id);
  if (!f) throw new Error(`no rendered file ${id}`);
  return f;
}

/** The env file's hash, as the dev stack keys restarts and migrations by it. */
export function envHash(stack: PeerStack): string {
  return shortHash(stack.files.find((f) => f.path === stack.app.envFile)!.content);
}
