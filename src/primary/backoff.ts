/** The wait before retry `failures` (1, 2, …): from `firstMs`, doubling, at most 30 s. */
export function backoffMs(failures: number, firstMs = 250): number {
  return Math.min(30_000, firstMs * 2 ** Math.min(Math.max(failures, 1), 7));
}
