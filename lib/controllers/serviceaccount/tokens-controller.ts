/**
 * The service account tokens controller (upstream's "serviceaccount-token"): a Secret of type
 * kubernetes.io/service-account-token annotated kubernetes.io/service-account.name gets
 *
 *   data.token      a legacy service account JWT signed with --service-account-private-key-file
 *                   (iss kubernetes/serviceaccount, the kubernetes.io/serviceaccount/* claims,
 *                   no expiry: it lives as long as the Secret holds it)
 *   data.ca.crt     the root CA (--root-ca-file, else the kubeconfig's CA)
 *   data.namespace  the Secret's namespace
 *   annotation      kubernetes.io/service-account.uid, the account's UID
 *
 * As upstream since 1.24 no Secret is made for an account: people create them. A Secret naming an
 * account that does not exist (or another account of the same name: the UID annotation differs)
 * is deleted, and deleting an account deletes its token Secrets. The API server accepts such a
 * token only while the Secret holds it (lib/apiserver/authn/serviceaccount.ts).
 */
import type { Logger } from 'pino';
import type { Secret, ServiceAccount } from '../../api/index.js';
import { signJWT, signingKeyFromPEM, type SigningKey } from '../../apiserver/authn/jwt.js';
import { silentLogger, type Clock, type Runnable } from '../../base/index.js';
import { Resources, deletedObject, waitForCacheSync, type KubeClient, type Lister, type SharedInformerFactory } from '../../client/index.js';
import { RateLimitingQueue, runWorkers } from '../../controller/index.js';
import { isConflict, isNotFound } from '../../machinery/index.js';

export const serviceAccountTokenType = 'kubernetes.io/service-account-token';
export const serviceAccountNameAnnotation = 'kubernetes.io/service-account.name';
export const serviceAccountUIDAnnotation = 'kubernetes.io/service-account.uid';
export const legacyTokenIssuer = 'kubernetes/serviceaccount';

/** The claims of a legacy token, as upstream's legacyClaims. */
export function legacyTokenClaims(namespace: string, accountName: string, accountUID: string, secretName: string): Record<string, unknown> {
  return {
    iss: legacyTokenIssuer,
    'kubernetes.io/serviceaccount/namespace': namespace,
    'kubernetes.io/serviceaccount/secret.name': secretName,
    'kubernetes.io/serviceaccount/service-account.name': accountName,
    'kubernetes.io/serviceaccount/service-account.uid': accountUID,
    sub: `system:serviceaccount:${namespace}:${accountName}`,
  };
}

export interface TokensControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  /** PEM private key (RSA or EC) that signs the tokens. */
  privateKey: string;
  /** The CA bundle put in ca.crt (may be empty). */
  rootCA: string;
  workers?: number;
  log?: Logger;
  clock?: Clock;
}

type Key = { kind: 'secret' | 'account'; namespace: string; name: string };

const b64 = (s: string) => Buffer.from(s).toString('base64');

export class TokensController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly key: SigningKey;
  private readonly secrets: Lister<Secret>;
  private readonly accounts: Lister<ServiceAccount>;
  private readonly informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[];

  constructor(private readonly o: TokensControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'serviceaccount-token' });
    this.key = signingKeyFromPEM(o.privateKey);
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    const secretInf = o.informers.informerFor(Resources.secrets);
    const saInf = o.informers.informerFor(Resources.serviceAccounts);
    this.secrets = secretInf.lister();
    this.accounts = saInf.lister();
    this.informers = [secretInf, saInf];
    const onSecret = (s: Secret) => {
      if (s.type === serviceAccountTokenType) this.enqueue({ kind: 'secret', namespace: s.metadata.namespace!, name: s.metadata.name! });
    };
    secretInf.addEventHandler({ onAdd: onSecret, onUpdate: (_o, s) => onSecret(s) });
    const onAccount = (sa: ServiceAccount) => this.enqueue({ kind: 'account', namespace: sa.metadata.namespace!, name: sa.metadata.name! });
    saInf.addEventHandler({ onAdd: onAccount, onUpdate: (_o, sa) => onAccount(sa), onDelete: (obj) => onAccount(deletedObject(obj)) });
  }

  private enqueue(k: Key): void {
    this.queue.add(JSON.stringify(k));
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, ...this.informers))) return;
    this.log.info('starting');
    await runWorkers(this.queue, this.o.workers ?? 1, (k) => this.sync(JSON.parse(k) as Key), signal, { log: this.log, name: 'serviceaccount-token' });
    this.log.info('stopped');
  }

  async sync(k: Key): Promise<void> {
    if (k.kind === 'account') return this.syncAccount(k);
    return this.syncSecret(k.namespace, k.name);
  }

  /** The account a token Secret names, if it exists with the UID the Secret names (if any); live on a cache miss. */
  private async accountOf(secret: Secret): Promise<ServiceAccount | undefined> {
    const ns = secret.metadata.namespace!;
    const name = secret.metadata.annotations?.[serviceAccountNameAnnotation] ?? '';
    const uid = secret.metadata.annotations?.[serviceAccountUIDAnnotation] ?? '';
    if (!name) return undefined;
    let sa = this.accounts.get(`${ns}/${name}`);
    if (!sa || (uid && sa.metadata.uid !== uid)) {
      // The cache may not have seen an account just made: ask before deleting anything.
      sa = await this.o.client.resource(Resources.serviceAccounts, ns).get(name).catch((err) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
    }
    return sa && (!uid || sa.metadata.uid === uid) ? sa : undefined;
  }

  async syncSecret(namespace: string, name: string): Promise<void> {
    const secret = this.secrets.get(`${namespace}/${name}`);
    if (!secret || secret.type !== serviceAccountTokenType || secret.metadata.deletionTimestamp) return;
    const client = this.o.client.resource(Resources.secrets, namespace);
    const sa = await this.accountOf(secret);
    if (!sa) {
      try {
        await client.delete(name, { preconditions: { uid: secret.metadata.uid } });
        this.log.info({ secret: `${namespace}/${name}`, serviceAccount: secret.metadata.annotations?.[serviceAccountNameAnnotation] }, 'deleted a token secret whose service account does not exist');
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
      return;
    }
    const data = secret.data ?? {};
    const annotations = secret.metadata.annotations ?? {};
    const needsToken = !data.token;
    const needsCA = this.o.rootCA !== '' && data['ca.crt'] !== b64(this.o.rootCA);
    const needsNamespace = data.namespace !== b64(namespace);
    const needsUID = annotations[serviceAccountUIDAnnotation] !== sa.metadata.uid;
    if (!needsToken && !needsCA && !needsNamespace && !needsUID) return;
    const next: Record<string, string> = { ...data };
    if (needsToken) next.token = b64(signJWT(legacyTokenClaims(namespace, sa.metadata.name!, sa.metadata.uid!, name), this.key));
    if (needsCA) next['ca.crt'] = b64(this.o.rootCA);
    if (needsNamespace) next.namespace = b64(namespace);
    try {
      await client.update({ ...secret, metadata: { ...secret.metadata, annotations: { ...annotations, [serviceAccountUIDAnnotation]: sa.metadata.uid! } }, data: next });
      this.log.info({ secret: `${namespace}/${name}`, serviceAccount: sa.metadata.name, token: needsToken }, 'populated a service account token secret');
    } catch (err) {
      // Deleted meanwhile: nothing to do. A conflict is thrown: retried with the newer object.
      if (isNotFound(err)) return;
      throw err;
    }
  }

  /** An account added, changed or gone: every token Secret naming it is synced (filled in, or deleted with the account). */
  async syncAccount(k: Key): Promise<void> {
    for (const s of this.secrets.namespace(k.namespace).list()) {
      if (s.type === serviceAccountTokenType && s.metadata.annotations?.[serviceAccountNameAnnotation] === k.name) this.enqueue({ kind: 'secret', namespace: k.namespace, name: s.metadata.name! });
    }
  }
}
