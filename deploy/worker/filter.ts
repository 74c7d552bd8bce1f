/** Which functions a worker runs: `--only` and `--except` lists. */

/** Parsed `--only` / `--except` (comma-separated names; `*` as the last character matches a prefix). */
export interface FunctionSelection {
  only?: string[];
  except?: string[];
}

/** Splits "a,b, c" into names, dropping empties. */
export function parseNameList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length > 0 ? names : undefined;
}

/** A predicate that is true for the functions this worker should run. */
export function selectionFilter(selection: FunctionSelection): (name: string) => boolean {
  const matches = (patterns: string[], name: string) =>
    patterns.some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : p === name));
  return (name) =>
    (selection.only === undefined || matches(selection.only, name)) && !(selection.except !== undefined && matches(selection.except, name));
}
