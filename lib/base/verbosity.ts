import type { LevelWithSilent } from 'pino';

/** Maps Kubernetes' `-v` verbosity to a pino level: 0-3 info, 4-5 debug, 6+ trace. */
export function levelForVerbosity(v: number): LevelWithSilent {
  if (v >= 6) return 'trace';
  if (v >= 4) return 'debug';
  return 'info';
}
