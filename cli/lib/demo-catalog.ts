/** `nfn serve --demo`: loads the Jaén marketplace catalog through the real put_product, then prints a short tour. */
import { readFileSync } from "node:fs";
import { decodeReply, requestFunction } from "../../runtime/client/index.ts";
import { subjectFor } from "../../runtime/config.ts";
import { readAuthSecret } from "./auth-secret.ts";
import type { CliIo } from "./io.ts";
import type { ServeSession } from "./serve-session.ts";
import { mintToken } from "./tokens.ts";

/** One product of the demo catalog. */
export interface DemoProduct {
  sku: string;
  name: string;
  priceCents: number;
  onHand: number;
}

/** The products in cli/demo-catalog.json. */
export function readDemoCatalog(): DemoProduct[] {
  const raw: unknown = JSON.parse(readFileSync(new URL("../demo-catalog.json", import.meta.url), "utf8"));
  const products = typeof raw === "object" && raw !== null ? (raw as { products?: unknown }).products : undefined;
  if (!Array.isArray(products)) throw new Error("cli/demo-catalog.json has no products list");
  return products as DemoProduct[];
}

/** Puts every demo product (scope inventory:admin) and prints what to try next. */
export async function loadDemoCatalog(session: ServeSession, io: CliIo): Promise<void> {
  const products = readDemoCatalog();
  const { host } = session;
  if (!host.functions.has("put_product")) {
    io.stderr.write("nfn: --demo needs the put_product function, which is not being served: catalog not loaded\n");
  } else {
    const secret = readAuthSecret(io.env, io.cwd);
    const token = await mintToken(secret?.secret ?? "", { sub: "nfn-demo", scopes: ["inventory:admin"], ttlSeconds: 300 });
    let failed = 0;
    let firstFailure = "";
    for (const product of products) {
      try {
        const msg = await requestFunction(host.nc, {
          subject: subjectFor(host.config, "put_product"),
          fn: "put_product",
          body: JSON.stringify(product),
          headers: { Authorization: `Bearer ${token}` },
          timeoutMs: 5000,
        });
        decodeReply("put_product", msg);
      } catch (err) {
        failed++;
        firstFailure ||= `${product.sku}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    io.stdout.write(`demo catalog: ${products.length - failed} of ${products.length} products loaded through put_product\n`);
    if (failed > 0) io.stderr.write(`nfn: ${failed} demo products failed, first ${firstFailure}\n`);
  }
  const sku = products[0]?.sku ?? "AOVE-PICUAL-500ML";
  io.stdout.write(
    [
      "",
      "what now (in another terminal):",
      `  NATS URL:        ${session.url}`,
      "  list functions:  npx nfn ls",
      `  check stock:     npx nfn invoke check_inventory '{"items":[{"sku":"${sku}","quantity":2}]}'`,
      '  mint a token:    npx nfn token --sub alice --scope "orders:write" > .nfn/alice.jwt',
      `  place an order:  npx nfn invoke create_order '{"items":[{"sku":"${sku}","quantity":1}],"paymentMethod":"pm_card_visa"}' --auth @.nfn/alice.jwt`,
      "  statistics:      npx nfn stats",
      "  stop:            Ctrl-C",
      "",
    ].join("\n"),
  );
}
