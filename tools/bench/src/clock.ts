/** Wall-clock milliseconds since the epoch with sub-millisecond resolution (Date.now() has 1 ms). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
