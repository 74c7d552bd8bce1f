/** Makes a function's JSON Schemas self-contained, so INFO advertises exactly what is enforced. */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Returns a copy of `schema` in which every `$ref` into one of the `shared` schemas
 * (`"common.json#/$defs/sku"`) points to a local `#/$defs/...` entry copied in. A client that only
 * reads INFO can then validate with any JSON Schema library, without our files.
 */
export function inlineSharedRefs(schema: object, shared: readonly object[]): object {
  const byId = new Map<string, Record<string, Json>>();
  for (const s of shared) {
    const id = (s as { $id?: unknown }).$id;
    if (typeof id === "string") byId.set(id, ((s as { $defs?: unknown }).$defs ?? {}) as Record<string, Json>);
  }
  const defs: Record<string, Json> = { ...(((schema as { $defs?: unknown }).$defs ?? {}) as Record<string, Json>) };
  const pending: string[] = [];

  const rewrite = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== "object") return node;
    const out: Record<string, Json> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") out[key] = rewriteRef(value);
      else out[key] = rewrite(value);
    }
    return out;
  };
  const rewriteRef = (ref: string): string => {
    const match = /^([^#]+)#\/\$defs\/(.+)$/.exec(ref);
    if (!match) return ref;
    const [, id = "", name = ""] = match;
    const source = byId.get(id);
    if (!source) return ref;
    if (!(name in defs)) {
      const def = source[name];
      if (def === undefined) throw new Error(`schema reference ${ref} names no definition`);
      defs[name] = null; // reserve the name first: definitions may refer to each other
      pending.push(name);
      defs[name] = rewrite(def);
    }
    return `#/$defs/${name}`;
  };

  const { $defs: _ignored, ...rest } = schema as Record<string, Json>;
  const body = rewrite(rest) as Record<string, Json>;
  const localDefs = Object.fromEntries(Object.entries(defs).map(([k, v]) => [k, pending.includes(k) ? v : rewrite(v)]));
  return Object.keys(localDefs).length > 0 ? { ...body, $defs: localDefs } : body;
}
