/** Test helper: a 3-node nats-server cluster with JetStream on free loopback ports, stopped with the test. */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { type LocalNatsServer, freePort, startNatsServer } from "../../runtime/nats-server.ts";
import { eventually } from "./nats.ts";

type AfterHook = { after(fn: () => Promise<void> | void): void };

/** A running cluster. */
export interface LocalCluster {
  readonly nodes: LocalNatsServer[];
  /** Client URLs of every node, for a client's server list. */
  readonly urls: string[];
}

/** Starts `size` nodes routed to each other (cluster "nfn"), and waits until JetStream has a meta leader. */
export async function natsCluster(t: AfterHook, size = 3): Promise<LocalCluster> {
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(",");
  const nodes = await Promise.all(
    clusterPorts.map((port, i) =>
      startNatsServer({
        args: ["--name", `nfn-${i + 1}`, "--cluster_name", "nfn", "--cluster", `nats://127.0.0.1:${port}`, "--routes", routes],
      }),
    ),
  );
  t.after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });
  const urls = nodes.map((n) => n.url);
  const nc = await connect({ servers: urls });
  try {
    // JetStream answers only once the nodes have elected a meta leader.
    await eventually(
      async () => {
        try {
          await (await jetstreamManager(nc, { timeout: 2000 })).getAccountInfo();
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      "the JetStream meta leader of the cluster",
    );
  } finally {
    await nc.close();
  }
  return { nodes, urls };
}
