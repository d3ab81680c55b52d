/**
 * --use-service-account-credentials: each controller talks to the API server as its own service
 * account, kube-system/<account> (deployment-controller, replicaset-controller, ...), bound by the
 * bootstrap policy to the ClusterRole system:controller:<account>. So a controller can do only
 * what its role allows, and the API server's logs and audit name the controller that acted.
 *
 *   the manager's own identity ──► get or create kube-system/<account>
 *                               ──► TokenRequest (serviceaccounts/<account>/token, 1 hour)
 *   the controller's client ──► Authorization: Bearer <token>, renewed at 80% of its lifetime
 *
 * As upstream's dynamic client builder: the manager's own credentials (its certificate) still
 * serve the shared informers, events, leader election and the requests for tokens.
 */
import type { Logger } from 'pino';
import type { ServiceAccount } from '../api/index.js';
import { realClock, silentLogger, type Clock } from '../base/index.js';
import { Resources, type RESTClient } from '../client/index.js';
import { isAlreadyExists, isNotFound } from '../machinery/index.js';

interface TokenRequestAnswer {
  status?: { token?: string; expirationTimestamp?: string };
}

export interface ServiceAccountCredentialsOptions {
  /** The manager's own client: it creates the accounts and asks for their tokens. */
  root: RESTClient;
  /** Where the accounts live (kube-system). */
  namespace?: string;
  /** The lifetime asked for each token (upstream's 3600 s). */
  expirationSeconds?: number;
  /** How long to wait before asking again after a failed renewal (default 10 s). */
  retryMs?: number;
  log?: Logger;
  clock?: Clock;
}

interface Account {
  token: string;
  client: RESTClient;
  timer?: NodeJS.Timeout;
}

export class ServiceAccountCredentials {
  private readonly accounts = new Map<string, Promise<Account>>();
  private readonly namespace: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private stopped = false;
  /** The first account's client: the others share its connections (none carries a certificate). */
  private firstClient?: RESTClient;

  constructor(private readonly o: ServiceAccountCredentialsOptions) {
    this.namespace = o.namespace ?? 'kube-system';
    this.log = o.log ?? silentLogger();
    this.clock = o.clock ?? realClock;
  }

  /**
   * A client that acts as kube-system/<account>, named `part` in its user agent. The first call
   * for an account makes sure the account exists and gets its first token; later calls for the
   * same account share its token. Rejects if the account or its token cannot be had.
   */
  async clientFor(account: string, part: string): Promise<RESTClient> {
    let a = this.accounts.get(account);
    if (!a) {
      a = this.setUp(account);
      this.accounts.set(account, a);
      a.catch(() => this.accounts.delete(account));
    }
    return (await a).client.forPart(part);
  }

  private async setUp(account: string): Promise<Account> {
    await this.ensureAccount(account);
    const { token, renewInMs } = await this.requestToken(account);
    const entry = { token } as Account;
    entry.client = this.o.root.withToken(account, () => entry.token, this.firstClient);
    this.firstClient ??= entry.client;
    this.scheduleRenewal(account, entry, renewInMs);
    return entry;
  }

  /** Stops the renewals (the tokens stay valid until they expire). */
  stop(): void {
    this.stopped = true;
    for (const a of this.accounts.values()) void a.then((entry) => clearTimeout(entry.timer), () => undefined);
  }

  private async ensureAccount(account: string): Promise<void> {
    const accounts = this.o.root.resource(Resources.serviceAccounts, this.namespace);
    try {
      await accounts.get(account);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const sa: ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace: this.namespace } };
      try {
        await accounts.create(sa);
        this.log.info({ serviceAccount: `${this.namespace}/${account}` }, 'created the service account of a controller');
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    }
  }

  private async requestToken(account: string): Promise<{ token: string; renewInMs: number }> {
    const expirationSeconds = this.o.expirationSeconds ?? 3600;
    const answer = await this.o.root.resource(Resources.serviceAccounts, this.namespace).createSubresource<TokenRequestAnswer>(account, 'token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds },
    });
    const token = answer.status?.token;
    if (!token) throw new Error(`the API server gave no token for service account ${this.namespace}/${account}`);
    const now = this.clock.now();
    const expiresAt = answer.status?.expirationTimestamp ? Date.parse(answer.status.expirationTimestamp) : now + expirationSeconds * 1000;
    return { token, renewInMs: Math.max(1000, 0.8 * (expiresAt - now)) };
  }

  private scheduleRenewal(account: string, entry: Account, inMs: number): void {
    if (this.stopped) return;
    entry.timer = setTimeout(() => {
      this.requestToken(account).then(
        ({ token, renewInMs }) => {
          entry.token = token;
          this.log.debug({ serviceAccount: `${this.namespace}/${account}` }, 'renewed the token of a controller');
          this.scheduleRenewal(account, entry, renewInMs);
        },
        (err: unknown) => {
          this.log.warn({ err, serviceAccount: `${this.namespace}/${account}` }, 'cannot renew the token of a controller; trying again');
          this.scheduleRenewal(account, entry, this.o.retryMs ?? 10_000);
        },
      );
    }, inMs);
    entry.timer.unref();
  }
}
