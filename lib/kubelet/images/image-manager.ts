/**
 * Images for containers, as upstream's image manager: the pull policy decides whether to pull,
 * a failed pull gives ErrImagePull and then ImagePullBackOff while the per pod-and-image backoff
 * (10s doubling to 300s) runs; pulls of one image are shared by every container waiting for it;
 * credentials come from the pod's imagePullSecrets.
 *
 *   policy        present                        absent
 *   IfNotPresent  "already present on machine"   pull
 *   Always        pull                           pull
 *   Never         "already present on machine"   ErrImageNeverPull
 */
import type { Container, Pod, Secret } from '../../api/index.js';
import { defaultPullPolicy } from '../../api/index.js';
import type { Clock } from '../../base/index.js';
import { KeyedBackoff } from '../backoff.js';
import { PodEvents, Reason } from '../events.js';
import type { ContainerRuntime, ImageInfo } from '../runtime/index.js';
import { credentialsFor } from './pull-secrets.js';

export type ImageErrorReason = 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName';

/** Why a container cannot have its image; `reason` becomes its waiting reason. */
export class ImagePullError extends Error {
  override readonly name = 'ImagePullError';
  constructor(
    readonly reason: ImageErrorReason,
    message: string,
    /** When a retry makes sense (the end of the backoff). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface ImageManagerOptions {
  runtime: ContainerRuntime;
  events: PodEvents;
  clock: Clock;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

/** Image references Docker accepts, loosely: no spaces, no uppercase repository. */
const imageRef = /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export class ImageManager {
  readonly backoff: KeyedBackoff;
  private readonly inflight = new Map<string, Promise<ImageInfo>>();
  /** Images seen, by id: for imageIDs with their digests. */
  private readonly byId = new Map<string, ImageInfo>();

  constructor(private readonly o: ImageManagerOptions) {
    this.backoff = new KeyedBackoff({ initialMs: o.backoffInitialMs, maxMs: o.backoffMaxMs, clock: o.clock });
  }

  /** Makes the container's image present as its pull policy says; throws ImagePullError. */
  async ensureImage(pod: Pod, c: Container, pullSecrets: readonly Secret[]): Promise<ImageInfo> {
    const image = c.image ?? '';
    if (!image || !imageRef.test(image)) {
      const msg = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`;
      this.o.events.container(pod, c, 'Warning', 'InspectFailed', msg);
      throw new ImagePullError('InvalidImageName', msg);
    }
    const policy = c.imagePullPolicy ?? defaultPullPolicy(image);
    const present = policy === 'Always' ? undefined : await this.o.runtime.imageStatus(image);
    if (present) {
      this.remember(present);
      this.o.events.container(pod, c, 'Normal', Reason.Pulled, `Container image "${image}" already present on machine`);
      return present;
    }
    if (policy === 'Never') {
      const msg = `Container image "${image}" is not present with pull policy of Never`;
      this.o.events.container(pod, c, 'Warning', Reason.ErrImageNeverPull, msg);
      throw new ImagePullError('ErrImageNeverPull', msg);
    }
    const key = `${pod.metadata.uid}/${image}`;
    const wait = this.backoff.remainingSinceUpdate(key);
    if (wait > 0) {
      const msg = `Back-off pulling image "${image}"`;
      this.o.events.container(pod, c, 'Normal', Reason.BackOff, msg);
      throw new ImagePullError('ImagePullBackOff', msg, wait);
    }
    this.o.events.container(pod, c, 'Normal', Reason.Pulling, `Pulling image "${image}"`);
    const asked = this.o.clock.now();
    let info: ImageInfo;
    try {
      info = await this.pull(image, pullSecrets);
    } catch (err) {
      const retry = this.backoff.next(key);
      const detail = (err as Error).message;
      this.o.events.container(pod, c, 'Warning', Reason.Failed, `Failed to pull image "${image}": ${detail}`);
      this.o.events.container(pod, c, 'Warning', Reason.Failed, 'Error: ErrImagePull');
      throw new ImagePullError('ErrImagePull', detail, retry);
    }
    this.backoff.reset(key);
    const secs = ((this.o.clock.now() - asked) / 1000).toFixed(3);
    this.o.events.container(pod, c, 'Normal', Reason.Pulled, `Successfully pulled image "${image}" in ${secs}s (${secs}s including waiting). Image size: ${info.sizeBytes} bytes.`);
    return info;
  }

  /** One pull per image at a time, trying the matching credentials, then none. */
  private pull(image: string, secrets: readonly Secret[]): Promise<ImageInfo> {
    let p = this.inflight.get(image);
    if (!p) {
      p = (async () => {
        const creds = credentialsFor(image, secrets);
        let last: unknown;
        for (const cred of [...creds, undefined]) {
          try {
            const info = await this.o.runtime.pullImage(image, cred ? { auth: cred } : {});
            this.remember(info);
            return info;
          } catch (err) {
            last = err;
          }
        }
        throw last;
      })().finally(() => this.inflight.delete(image));
      this.inflight.set(image, p);
    }
    return p;
  }

  private remember(info: ImageInfo): void {
    this.byId.set(info.id, info);
  }

  /** Kubernetes' imageID: `docker-pullable://<repo>@sha256:...` when the image has a digest, else `docker://sha256:...`. */
  imageID(runtimeImageId: string): string {
    if (!runtimeImageId) return '';
    const info = this.byId.get(runtimeImageId);
    if (info?.repoDigests.length) return `docker-pullable://${info.repoDigests[0]}`;
    return `docker://${runtimeImageId}`;
  }

  /** Forgets backoff of a pod's pulls (the pod is gone). */
  forgetPod(uid: string): void {
    this.backoff.resetPrefix(`${uid}/`);
  }
}
