/** `nfn test [fn...]`: placeholder. */
import type { Command } from "commander";

/** Defines `nfn test`. */
export function register(program: Command): void {
  program.command("test").description("run the contract tests of functions");
}
