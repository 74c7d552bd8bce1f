#!/usr/bin/env node
// The `nfn` command: runs the TypeScript CLI through tsx, so a clone needs no build step.
import { register } from "tsx/esm/api";

register();
await import("./index.ts");
