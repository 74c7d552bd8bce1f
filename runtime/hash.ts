/** sha256 of bundle bytes, the identity of a deployed function version. */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

/** Hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Hex sha256 of the file at `path`. */
export async function sha256File(path: string): Promise<string> {
  return sha256Hex(await readFile(path));
}
