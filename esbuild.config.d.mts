/** Types of esbuild.config.mjs for the TypeScript that reuses its options (bench:gateway builds its processes with them). */
import type { BuildOptions } from "esbuild";

/** esbuild options every bundle shares: Node 20 ESM with the runtime and all dependencies inside. */
export declare const esbuildOptions: BuildOptions;
