/**
 * `npm run bench [-- NAME [ARGS...]]`: runs one benchmark.
 *
 *   sshPool   (the default) pooled vs unpooled SSH steps against sshd on loopback
 *   deploys   deploys under load on the prod-like test hosts: in place vs releases (issue 11);
 *             BENCH_SHAPE=one-host: on one host, restart in place vs the socket (issue 25)
 *   peers     the dev stack by django-fleet, Ansible and a plain bash script (issue 13)
 */
const BENCHES = ["sshPool", "deploys", "peers"] as const;
const [name = "sshPool", ...args] = process.argv.slice(2);

switch (name) {
  case "sshPool":
    await import("./sshPool.ts");
    break;
  case "deploys":
    await (await import("./deploys.ts")).main(args);
    break;
  case "peers":
    await (await import("./peers.ts")).main(args);
    break;
  default:
    console.error(`unknown benchmark "${name}"; known: ${BENCHES.join(", ")} (npm run bench -- NAME)`);
    process.exit(2);
}
