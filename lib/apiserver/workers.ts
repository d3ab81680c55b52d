/**
 * `tkube-apiserver --workers=N`: N API server processes sharing the same ports.
 *
 * Node runs JavaScript on one core per process; upstream's Go server spreads its requests over
 * every core. With --workers, the program's first process only supervises: it forks N workers
 * (node:cluster), each a whole API server against the same etcd, exactly as replicated API
 * servers behind a load balancer are, and the kernel's sockets are shared so that connections
 * are handed out to the workers in turn.
 *
 *   clients ──▶ :6443 / insecure port (held by the supervisor) ──▶ worker 1 ┐
 *                                                             └──▶ worker 2 ├──▶ etcd
 *                                                             └──▶ ...      ┘
 *
 * What differs from one process: each worker has its own watch cache (each follows etcd, so a
 * write made through one worker reaches watches on every worker), and /metrics counts the
 * requests of the worker that answered the scrape. The first worker starts alone (it bootstraps
 * the default namespaces, roles and a generated serving certificate), then the others. A worker
 * that dies is replaced; SIGTERM or SIGINT stops them all.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../base/index.js';

/** Message a worker sends its supervisor once it serves. */
export const servingMessage = { tkubeAPIServer: 'serving' } as const;

/** Message the supervisor sends every worker once all of them serve. */
const allServingMessage = { tkubeAPIServer: 'all-serving' } as const;

/** In a worker: tells the supervisor this worker serves (no-op in a single process). */
export function reportServing(): void {
  if (cluster.isWorker) process.send?.(servingMessage);
}

let allServing = !cluster.isWorker;
if (cluster.isWorker) {
  process.on('message', (m: unknown) => {
    if ((m as typeof allServingMessage)?.tkubeAPIServer === 'all-serving') allServing = true;
  });
}

/**
 * The `workers` readiness check: a worker is not ready until every worker serves, so that a
 * client waiting for /readyz opens its connections when they can be spread over all of them.
 */
export const workersHealthCheck = {
  name: 'workers',
  check: async (): Promise<void> => {
    if (!allServing) throw new Error('waiting for the other API server workers to serve');
  },
};

/** In a worker: which one (1-based), or undefined in a single process. */
export function workerIndex(): number | undefined {
  return cluster.isWorker ? Number(process.env.TKUBE_APISERVER_WORKER) : undefined;
}

export interface WorkerSupervisorOptions {
  count: number;
  log: Logger;
  /** Pause before a dead worker is replaced (ms). */
  restartDelayMs?: number;
}

/** Runs in the first process: starts the workers, keeps them running, and stops them on a signal. Never returns. */
export async function superviseWorkers(o: WorkerSupervisorOptions): Promise<never> {
  const log = o.log.child({ part: 'workers' });
  // Every worker accepts on the shared sockets itself (the kernel hands each connection to one
  // that is waiting): a worker that dies takes no connection down with it, which the default
  // round-robin hand-off by this process cannot promise.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  let everyoneUp = false;
  const live = new Map<number, Worker>();

  const fork = (index: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const w = cluster.fork({ TKUBE_APISERVER_WORKER: String(index) });
      live.set(index, w);
      let serving = false;
      w.on('message', (m: unknown) => {
        if (!serving && (m as typeof servingMessage)?.tkubeAPIServer === 'serving') {
          serving = true;
          log.info({ worker: index, pid: w.process.pid }, 'worker serving');
          if (everyoneUp) w.send(allServingMessage);
          resolve();
        }
      });
      w.on('exit', (code, sig) => {
        if (live.get(index) === w) live.delete(index);
        if (!serving) return reject(new Error(`worker ${index} exited before it served (${sig ? `signal ${sig}` : `exit code ${code}`})`));
        if (stopping) return;
        log.error({ worker: index, pid: w.process.pid, code, signal: sig }, 'worker died; starting a new one');
        setTimeout(() => {
          if (!stopping) fork(index).catch((err: unknown) => log.error({ err, worker: index }, 'replacement worker failed'));
        }, o.restartDelayMs ?? 1000);
      });
    });

  const stopAll = (sig: NodeJS.Signals) => {
    for (const w of live.values()) w.process.kill(sig);
  };
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    stopping = true;
    if (signals > 1) {
      stopAll('SIGKILL');
      process.exit(130);
    }
    log.info({ signal: sig, workers: live.size }, 'shutting down the workers');
    if (live.size === 0) process.exit(0);
    stopAll('SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  cluster.on('exit', () => {
    if (stopping && live.size === 0) {
      log.info('stopped');
      process.exit(0);
    }
  });

  try {
    log.info({ workers: o.count }, 'starting worker 1 (it bootstraps), then the others');
    await fork(1);
    await Promise.all(Array.from({ length: o.count - 1 }, (_, i) => fork(i + 2)));
    everyoneUp = true;
    for (const w of live.values()) w.send(allServingMessage);
    log.info({ workers: o.count }, 'all workers serving');
  } catch (err) {
    log.fatal({ err }, 'a worker failed to start');
    stopping = true;
    stopAll('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    process.exit(1);
  }
  return new Promise<never>(() => {});
}
