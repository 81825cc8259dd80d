/**
 * The width tables must fit, set by BaseCommand before a command runs. Apart from render/table.ts so that
 * setting it does not load cli-table3 (a command printing JSON or YAML never needs it).
 */
let maxWidth: number | undefined;

/**
 * The width tables must fit (the terminal's, for `-o table`; BaseCommand sets it), or undefined: no limit
 * (`-o wide`, pipes, files).
 */
export function setTableWidth(width: number | undefined): void {
  maxWidth = width !== undefined && width >= 40 ? width : undefined;
}

export function tableWidth(): number | undefined {
  return maxWidth;
}
