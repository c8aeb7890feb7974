/**
 * The plan's rules one by one (plan/listen.ts, plan/placement.ts, plan/files.ts), with
 * tables; the RabbitMQ config rendered from its listeners; the app layout as data and the
 * script made from it (services/app/appLayout.ts).
 */
import { describe, expect, it } from "vitest";
import type { Role } from "../../config/schema.ts";
import type { AppDeployment, HostPlan } from "../../config/topology.ts";
import { celeryFiles, gunicornFiles, nginxSitePath, postgresFiles, unitFilePath } from "../../plan/files.ts";
import { gunicornBindAddress, listenAddresses, logSenders, upstreamAddress, upstreamsOf } from "../../plan/listen.ts";
import { migratorOf, objectStoreCaHosts, staticCopyHostOf } from "../../plan/placement.ts";
import { renderRabbitmqConf } from "../../services/rabbitmq/rabbitmq.ts";
import { appLayout, layoutScript } from "../../services/app/appLayout.ts";
import { KEY } from "../helpers/planFleet.ts";

function h(name: string, n: number, roles: Role[] = []): HostPlan {
  return { name, address: `203.0.113.${n}`, privateAddress: `10.1.0.${n}`, port: 22, user: "root", hostKey: KEY, roles: new Set(roles) };
}
const [a, b, c] = [h("a", 1), h("b", 2), h("c", 3)];

describe("listenAddresses: loopback, and the private address for a client elsewhere", () => {
  const rows: Array<[string, HostPlan[], "127.0.0.1" | "localhost" | undefined, string[]]> = [
    ["no client", [], undefined, ["127.0.0.1"]],
    ["every client on the server's host", [a], undefined, ["127.0.0.1"]],
    ["a client elsewhere", [a, b], undefined, ["127.0.0.1", "10.1.0.1"]],
    ["PostgreSQL's spelling of loopback", [b], "localhost", ["localhost", "10.1.0.1"]],
    ["PostgreSQL, local clients only", [a], "localhost", ["localhost"]],
  ];
  it.each(rows)("%s", (_n, clients, loopback, want) => {
    expect(listenAddresses(a, clients, loopback)).toEqual(want);
  });
});

describe("gunicorn's bind address and the upstream nginx reaches", () => {
  const rows: Array<[string, HostPlan | undefined, HostPlan, string]> = [
    ["beside the load balancer: loopback", a, a, "127.0.0.1"],
    ["on a host of its own: the private address", a, b, "10.1.0.2"],
    ["no load balancer: the private address", undefined, b, "10.1.0.2"],
  ];
  it.each(rows)("%s", (_n, lb, node, want) => {
    const bind = gunicornBindAddress(node, { loadBalancer: lb });
    expect(bind).toBe(want);
    expect(upstreamAddress(node, bind)).toBe(want);
  });
  it("upstreams in the order of the app hosts", () => {
    expect(upstreamsOf([a, b, c], 8000, { loadBalancer: a })).toEqual([
      { host: "a", address: "127.0.0.1", port: 8000 }, { host: "b", address: "10.1.0.2", port: 8000 }, { host: "c", address: "10.1.0.3", port: 8000 },
    ]);
  });
});

describe("log senders", () => {
  it("loopback, then each private address once", () => {
    expect(logSenders([a, b, { ...c, privateAddress: "10.1.0.1" }])).toEqual(["127.0.0.1", "10.1.0.1", "10.1.0.2"]);
  });
});

describe("placement", () => {
  const d = (appHosts: HostPlan[], codeHosts: HostPlan[]) => ({ appHosts, codeHosts, workers: [], beat: undefined }) as unknown as AppDeployment;
  const rows: Array<[string, AppDeployment, string]> = [
    ["the first app host migrates", d([b, c], [a, b, c]), "b"],
    ["without an app host, the first code host", d([], [c, a]), "c"],
  ];
  it.each(rows)("%s", (_n, dep, want) => {
    expect(migratorOf(dep).name).toBe(want);
  });
  it("a static copy only for a load balancer that runs none of the app's code", () => {
    expect(staticCopyHostOf(d([b], [b]), { loadBalancer: a })?.name).toBe("a");
    expect(staticCopyHostOf(d([a], [a]), { loadBalancer: a })).toBeUndefined();
    expect(staticCopyHostOf(d([b], [b]), { loadBalancer: undefined })).toBeUndefined();
  });
  const cas: Array<[string, { backup?: string; media?: string }, Array<[string, string[]]>]> = [
    ["none", {}, []],
    ["backups only: the database host", { backup: "/b.pem" }, [["a", ["/b.pem"]]]],
    ["media only: the code hosts", { media: "/m.pem" }, [["b", ["/m.pem"]], ["c", ["/m.pem"]]]],
    ["both", { backup: "/b.pem", media: "/m.pem" }, [["a", ["/b.pem"]], ["b", ["/m.pem"]], ["c", ["/m.pem"]]]],
    ["one file for both, a code host on the database host", { backup: "/x.pem", media: "/x.pem" }, [["b", ["/x.pem"]], ["c", ["/x.pem"]]]],
  ];
  it.each(cas)("object-store CA hosts: %s", (_n, files, want) => {
    const db = files.backup === "/x.pem" ? b : a;
    expect([...objectStoreCaHosts({ db, codeHosts: [b, c] }, files)]).toEqual(want);
  });
});

describe("our files", () => {
  it("gunicorn, Celery, nginx, PostgreSQL, units", () => {
    expect(gunicornFiles({ name: "shop", gunicorn: { workers: 2, timeoutSeconds: 120, maxRequests: 0 } })).toEqual({
      conf: "/etc/shop/gunicorn.conf.py", unit: "shop-gunicorn.service", stopTimeoutSeconds: 125,
    });
    expect(celeryFiles({ name: "shop", settingsModule: "conf.settings", celeryApp: undefined })).toEqual({
      workerUnit: "shop-celery-worker.service", beatUnit: "shop-celery-beat.service", scheduleFile: "/var/lib/shop/celerybeat-schedule", celeryApp: "conf",
    });
    expect(nginxSitePath("shop")).toBe("/etc/nginx/sites-enabled/shop.conf");
    expect(postgresFiles("16").unit).toBe("postgresql@16-main.service");
    expect(unitFilePath("x.service")).toBe("/etc/systemd/system/x.service");
  });

  it("rabbitmq.conf: one numbered listener per address", () => {
    expect(renderRabbitmqConf({ listenAddresses: ["127.0.0.1"], port: 5672 })).toBe("# Managed by django-fleet (pulumi).\nlisteners.tcp.1 = 127.0.0.1:5672\n");
    expect(renderRabbitmqConf({ listenAddresses: ["127.0.0.1", "10.1.0.7"], port: 5672 }))
      .toBe("# Managed by django-fleet (pulumi).\nlisteners.tcp.1 = 127.0.0.1:5672\nlisteners.tcp.2 = 10.1.0.7:5672\n");
  });
});

describe("the app layout, as data and as the script made from it", () => {
  const l = appLayout("shop");
  it("root makes the home (nginx may only pass through) and the state folder; the app's user the rest", () => {
    expect(l).toMatchObject({ user: "shop", home: "/srv/shop", shell: "/usr/sbin/nologin" });
    expect(l.rootMade.map((f) => `${f.path} ${f.owner}:${f.group} ${f.mode}`)).toEqual(["/srv/shop shop:www-data 0710", "/var/lib/shop shop:shop 0750"]);
    expect(l.userMade.map((f) => `${f.path} ${f.mode}`)).toEqual([
      "/srv/shop/releases 0750", "/srv/shop/log 0755", "/srv/shop/public 0755", "/srv/shop/public/static 0755", "/srv/shop/public/media 0755", "/srv/shop/shared 0755",
    ]);
  });
  it("the script makes each folder with its mode: root's with their owner, the others as the app's user", () => {
    const s = layoutScript("shop");
    expect(s).toContain("install -d -o shop -g www-data -m 0710 /srv/shop\ninstall -d -o shop -g shop -m 0750 /var/lib/shop\nchown shop:www-data /srv/shop\nchmod 0710 /srv/shop\nchmod 0750 /var/lib/shop\n");
    expect(s).toContain("install -d -m 0750 -- /srv/shop/releases\ninstall -d -m 0755 -- /srv/shop/log /srv/shop/public /srv/shop/public/static /srv/shop/public/media /srv/shop/shared'");
  });
});
