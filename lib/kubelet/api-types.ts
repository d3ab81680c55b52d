/** Parts of the Pod type that lib/api does not name, derived from the types it does. */
import type { Container, Pod, PodSpec, Volume } from '../api/index.js';

/** A debugging container added to a running pod (pods/ephemeralcontainers): a Container with a target. */
export type EphemeralContainer = NonNullable<PodSpec['ephemeralContainers']>[number];
export type EnvVar = NonNullable<Container['env']>[number];
export type ContainerPort = NonNullable<Container['ports']>[number];
export type Probe = NonNullable<Container['livenessProbe']>;
export type LifecycleHandler = NonNullable<NonNullable<Container['lifecycle']>['preStop']>;
export type HTTPGetAction = NonNullable<Probe['httpGet']>;
export type VolumeMount = NonNullable<Container['volumeMounts']>[number];
export type KeyToPath = NonNullable<NonNullable<Volume['configMap']>['items']>[number];
export type ServiceAccountTokenProjection = NonNullable<NonNullable<NonNullable<Volume['projected']>['sources']>[number]['serviceAccountToken']>;
export type PodStatus = NonNullable<Pod['status']>;
export type PodCondition = NonNullable<PodStatus['conditions']>[number];
export type ContainerStatusAPI = NonNullable<PodStatus['containerStatuses']>[number];
export type ContainerStateAPI = NonNullable<ContainerStatusAPI['state']>;
export type PodPhase = NonNullable<PodStatus['phase']>;
export type QOSClass = NonNullable<PodStatus['qosClass']>;
export type RestartPolicy = NonNullable<PodSpec['restartPolicy']>;
