/**
 * The protobuf messages tkube can decode, one entry per message, keyed `<package>.<Name>`
 * (package aliases: meta = meta.k8s.io/v1, core = core/v1, apps/v1, batch/v1, ... all v1).
 *
 * Field numbers and JSON names are Kubernetes facts, transcribed from the upstream
 * `generated.proto` and `types.go` files of k8s.io/api and k8s.io/apimachinery (v0.36; v0.31
 * and v0.32, the versions of the kubectl tkube is tested with, are subsets). Field numbers
 * never change upstream, so newer clients only add entries.
 *
 * Each entry is a list of fields separated by white space, each `number:jsonName:type`:
 *
 *   type   s string, b bool, i32 int32, i64 int64, f64 double, y bytes (base64 in JSON);
 *          a message name (unqualified = same package); or a special message decoded by
 *          hand: Time, MicroTime, Quantity, IntOrString, RawExtension, FieldsV1.
 *   {T}    map<string, T>, sent as repeated entry messages {key = 1, value = 2}
 *   T*     repeated
 *   T?     a scalar whose zero value is meaningful: a pointer in Go (`replicas *int32`) or a
 *          field without `omitempty`. Without `?`, a zero scalar is dropped, because Go writes
 *          non-pointer scalars to the wire even when they are zero, and its JSON encoder would
 *          have left them out: the decoded object is the JSON kubectl would have sent.
 *   T^     embedded with `json:",inline"`: its fields land in the enclosing object
 *          (the JSON name is empty).
 *
 * An entry starting with `list` is a Go slice type wrapped in a message for protobuf's sake
 * (ExtraValue): its JSON form is the array of field 1.
 *
 * Messages are decoded in full, status included: what a client sends is stored or rejected
 * by the same code as JSON bodies, never silently cut short by the decoder.
 */

/** Messages by `<package>.<Name>`; see the file comment for the notation. */
export const messageTable: Readonly<Record<string, string>> = {
  // apps
  'apps.ControllerRevision': '1:metadata:meta.ObjectMeta 2:data:RawExtension 3:revision:i64?',
  'apps.DaemonSet': '1:metadata:meta.ObjectMeta 2:spec:DaemonSetSpec 3:status:DaemonSetStatus',
  'apps.DaemonSetCondition': '1:type:s? 2:status:s? 3:lastTransitionTime:Time 4:reason:s 5:message:s',
  'apps.DaemonSetSpec': `
    1:selector:meta.LabelSelector 2:template:core.PodTemplateSpec 3:updateStrategy:DaemonSetUpdateStrategy 4:minReadySeconds:i32
    6:revisionHistoryLimit:i32?`,
  'apps.DaemonSetStatus': `
    1:currentNumberScheduled:i32? 2:numberMisscheduled:i32? 3:desiredNumberScheduled:i32? 4:numberReady:i32? 5:observedGeneration:i64
    6:updatedNumberScheduled:i32 7:numberAvailable:i32 8:numberUnavailable:i32 9:collisionCount:i32? 10:conditions:DaemonSetCondition*`,
  'apps.DaemonSetUpdateStrategy': '1:type:s 2:rollingUpdate:RollingUpdateDaemonSet',
  'apps.Deployment': '1:metadata:meta.ObjectMeta 2:spec:DeploymentSpec 3:status:DeploymentStatus',
  'apps.DeploymentCondition': '1:type:s? 2:status:s? 6:lastUpdateTime:Time 7:lastTransitionTime:Time 4:reason:s 5:message:s',
  'apps.DeploymentSpec': `
    1:replicas:i32? 2:selector:meta.LabelSelector 3:template:core.PodTemplateSpec 4:strategy:DeploymentStrategy 5:minReadySeconds:i32
    6:revisionHistoryLimit:i32? 7:paused:b 9:progressDeadlineSeconds:i32?`,
  'apps.DeploymentStatus': `
    1:observedGeneration:i64 2:replicas:i32 3:updatedReplicas:i32 7:readyReplicas:i32 4:availableReplicas:i32 5:unavailableReplicas:i32
    9:terminatingReplicas:i32? 6:conditions:DeploymentCondition* 8:collisionCount:i32?`,
  'apps.DeploymentStrategy': '1:type:s 2:rollingUpdate:RollingUpdateDeployment',
  'apps.ReplicaSet': '1:metadata:meta.ObjectMeta 2:spec:ReplicaSetSpec 3:status:ReplicaSetStatus',
  'apps.ReplicaSetCondition': '1:type:s? 2:status:s? 3:lastTransitionTime:Time 4:reason:s 5:message:s',
  'apps.ReplicaSetSpec': '1:replicas:i32? 4:minReadySeconds:i32 2:selector:meta.LabelSelector 3:template:core.PodTemplateSpec',
  'apps.ReplicaSetStatus': `
    1:replicas:i32? 2:fullyLabeledReplicas:i32 4:readyReplicas:i32 5:availableReplicas:i32 7:terminatingReplicas:i32? 3:observedGeneration:i64
    6:conditions:ReplicaSetCondition*`,
  'apps.RollingUpdateDaemonSet': '1:maxUnavailable:IntOrString 2:maxSurge:IntOrString',
  'apps.RollingUpdateDeployment': '1:maxUnavailable:IntOrString 2:maxSurge:IntOrString',
  'apps.RollingUpdateStatefulSetStrategy': '1:partition:i32? 2:maxUnavailable:IntOrString',
  'apps.StatefulSet': '1:metadata:meta.ObjectMeta 2:spec:StatefulSetSpec 3:status:StatefulSetStatus',
  'apps.StatefulSetCondition': '1:type:s? 2:status:s? 3:lastTransitionTime:Time 4:reason:s 5:message:s',
  'apps.StatefulSetOrdinals': '1:start:i32?',
  'apps.StatefulSetPersistentVolumeClaimRetentionPolicy': '1:whenDeleted:s 2:whenScaled:s',
  'apps.StatefulSetSpec': `
    1:replicas:i32? 2:selector:meta.LabelSelector 3:template:core.PodTemplateSpec 4:volumeClaimTemplates:core.PersistentVolumeClaim*
    5:serviceName:s? 6:podManagementPolicy:s 7:updateStrategy:StatefulSetUpdateStrategy 8:revisionHistoryLimit:i32? 9:minReadySeconds:i32
    10:persistentVolumeClaimRetentionPolicy:StatefulSetPersistentVolumeClaimRetentionPolicy 11:ordinals:StatefulSetOrdinals`,
  'apps.StatefulSetStatus': `
    1:observedGeneration:i64 2:replicas:i32? 3:readyReplicas:i32 4:currentReplicas:i32 5:updatedReplicas:i32 6:currentRevision:s
    7:updateRevision:s 9:collisionCount:i32? 10:conditions:StatefulSetCondition* 11:availableReplicas:i32?`,
  'apps.StatefulSetUpdateStrategy': '1:type:s 2:rollingUpdate:RollingUpdateStatefulSetStrategy',
  // authentication
  'authentication.BoundObjectReference': '1:kind:s 2:apiVersion:s 3:name:s 4:uid:s',
  'authentication.ExtraValue': 'list 1:items:s*',
  'authentication.SelfSubjectReview': '1:metadata:meta.ObjectMeta 2:status:SelfSubjectReviewStatus',
  'authentication.SelfSubjectReviewStatus': '1:userInfo:UserInfo',
  'authentication.TokenRequest': '1:metadata:meta.ObjectMeta 2:spec:TokenRequestSpec 3:status:TokenRequestStatus',
  'authentication.TokenRequestSpec': '1:audiences:s* 4:expirationSeconds:i64? 3:boundObjectRef:BoundObjectReference',
  'authentication.TokenRequestStatus': '1:token:s? 2:expirationTimestamp:Time',
  'authentication.UserInfo': '1:username:s 2:uid:s 3:groups:s* 4:extra:{ExtraValue}',
  // authorization
  'authorization.FieldSelectorAttributes': '1:rawSelector:s 2:requirements:meta.FieldSelectorRequirement*',
  'authorization.LabelSelectorAttributes': '1:rawSelector:s 2:requirements:meta.LabelSelectorRequirement*',
  'authorization.NonResourceAttributes': '1:path:s 2:verb:s',
  'authorization.NonResourceRule': '1:verbs:s* 2:nonResourceURLs:s*',
  'authorization.ResourceAttributes': `
    1:namespace:s 2:verb:s 3:group:s 4:version:s 5:resource:s 6:subresource:s 7:name:s 8:fieldSelector:FieldSelectorAttributes
    9:labelSelector:LabelSelectorAttributes`,
  'authorization.ResourceRule': '1:verbs:s* 2:apiGroups:s* 3:resources:s* 4:resourceNames:s*',
  'authorization.SelfSubjectAccessReview': '1:metadata:meta.ObjectMeta 2:spec:SelfSubjectAccessReviewSpec 3:status:SubjectAccessReviewStatus',
  'authorization.SelfSubjectAccessReviewSpec': '1:resourceAttributes:ResourceAttributes 2:nonResourceAttributes:NonResourceAttributes',
  'authorization.SelfSubjectRulesReview': '1:metadata:meta.ObjectMeta 2:spec:SelfSubjectRulesReviewSpec 3:status:SubjectRulesReviewStatus',
  'authorization.SelfSubjectRulesReviewSpec': '1:namespace:s',
  'authorization.SubjectAccessReviewStatus': '1:allowed:b? 4:denied:b 2:reason:s 3:evaluationError:s',
  'authorization.SubjectRulesReviewStatus': '1:resourceRules:ResourceRule* 2:nonResourceRules:NonResourceRule* 3:incomplete:b? 4:evaluationError:s',
  // autoscaling (v1)
  'autoscaling.CrossVersionObjectReference': '1:kind:s 2:name:s 3:apiVersion:s',
  'autoscaling.HorizontalPodAutoscaler': '1:metadata:meta.ObjectMeta 2:spec:HorizontalPodAutoscalerSpec 3:status:HorizontalPodAutoscalerStatus',
  'autoscaling.HorizontalPodAutoscalerSpec': '1:scaleTargetRef:CrossVersionObjectReference 2:minReplicas:i32? 3:maxReplicas:i32? 4:targetCPUUtilizationPercentage:i32?',
  'autoscaling.HorizontalPodAutoscalerStatus':
    '1:observedGeneration:i64? 2:lastScaleTime:Time 3:currentReplicas:i32? 4:desiredReplicas:i32? 5:currentCPUUtilizationPercentage:i32?',
  'autoscaling.Scale': '1:metadata:meta.ObjectMeta 2:spec:ScaleSpec 3:status:ScaleStatus',
  // Go omits a zero replicas from Scale's JSON (omitempty) and reads the absence as 0; tkube's
  // scale handler wants it stated, so a 0 on the wire is kept.
  'autoscaling.ScaleSpec': '1:replicas:i32?',
  'autoscaling.ScaleStatus': '1:replicas:i32? 2:selector:s',
  // batch
  'batch.CronJob': '1:metadata:meta.ObjectMeta 2:spec:CronJobSpec 3:status:CronJobStatus',
  'batch.CronJobSpec': `
    1:schedule:s? 8:timeZone:s? 2:startingDeadlineSeconds:i64? 3:concurrencyPolicy:s 4:suspend:b? 5:jobTemplate:JobTemplateSpec
    6:successfulJobsHistoryLimit:i32? 7:failedJobsHistoryLimit:i32?`,
  'batch.CronJobStatus': '1:active:core.ObjectReference* 4:lastScheduleTime:Time 5:lastSuccessfulTime:Time',
  'batch.Job': '1:metadata:meta.ObjectMeta 2:spec:JobSpec 3:status:JobStatus',
  'batch.JobCondition': '1:type:s? 2:status:s? 3:lastProbeTime:Time 4:lastTransitionTime:Time 5:reason:s 6:message:s',
  'batch.JobSpec': `
    1:parallelism:i32? 2:completions:i32? 3:activeDeadlineSeconds:i64? 11:podFailurePolicy:PodFailurePolicy 16:successPolicy:SuccessPolicy
    7:backoffLimit:i32? 12:backoffLimitPerIndex:i32? 13:maxFailedIndexes:i32? 4:selector:meta.LabelSelector 5:manualSelector:b?
    6:template:core.PodTemplateSpec 8:ttlSecondsAfterFinished:i32? 9:completionMode:s? 10:suspend:b? 14:podReplacementPolicy:s? 15:managedBy:s?`,
  'batch.JobStatus': `
    1:conditions:JobCondition* 2:startTime:Time 3:completionTime:Time 4:active:i32 5:succeeded:i32 6:failed:i32 11:terminating:i32?
    7:completedIndexes:s 10:failedIndexes:s? 8:uncountedTerminatedPods:UncountedTerminatedPods 9:ready:i32?`,
  'batch.JobTemplateSpec': '1:metadata:meta.ObjectMeta 2:spec:JobSpec',
  'batch.PodFailurePolicy': '1:rules:PodFailurePolicyRule*',
  'batch.PodFailurePolicyOnExitCodesRequirement': '1:containerName:s? 2:operator:s? 3:values:i32*',
  'batch.PodFailurePolicyOnPodConditionsPattern': '1:type:s? 2:status:s?',
  'batch.PodFailurePolicyRule': '1:action:s? 2:onExitCodes:PodFailurePolicyOnExitCodesRequirement 3:onPodConditions:PodFailurePolicyOnPodConditionsPattern*',
  'batch.SuccessPolicy': '1:rules:SuccessPolicyRule*',
  'batch.SuccessPolicyRule': '1:succeededIndexes:s? 2:succeededCount:i32?',
  'batch.UncountedTerminatedPods': '1:succeeded:s* 2:failed:s*',
  // coordination
  'coordination.Lease': '1:metadata:meta.ObjectMeta 2:spec:LeaseSpec',
  'coordination.LeaseSpec': `
    1:holderIdentity:s? 2:leaseDurationSeconds:i32? 3:acquireTime:MicroTime 4:renewTime:MicroTime 5:leaseTransitions:i32? 6:strategy:s?
    7:preferredHolder:s?`,
  // core
  'core.AWSElasticBlockStoreVolumeSource': '1:volumeID:s? 2:fsType:s 3:partition:i32 4:readOnly:b',
  'core.Affinity': '1:nodeAffinity:NodeAffinity 2:podAffinity:PodAffinity 3:podAntiAffinity:PodAntiAffinity',
  'core.AppArmorProfile': '1:type:s? 2:localhostProfile:s?',
  'core.AttachedVolume': '1:name:s? 2:devicePath:s?',
  'core.AzureDiskVolumeSource': '1:diskName:s? 2:diskURI:s? 3:cachingMode:s? 4:fsType:s? 5:readOnly:b? 6:kind:s?',
  'core.AzureFileVolumeSource': '1:secretName:s? 2:shareName:s? 3:readOnly:b',
  'core.Binding': '1:metadata:meta.ObjectMeta 2:target:ObjectReference',
  'core.CSIVolumeSource': '1:driver:s? 2:readOnly:b? 3:fsType:s? 4:volumeAttributes:{s} 5:nodePublishSecretRef:LocalObjectReference',
  'core.Capabilities': '1:add:s* 2:drop:s*',
  'core.CephFSVolumeSource': '1:monitors:s* 2:path:s 3:user:s 4:secretFile:s 5:secretRef:LocalObjectReference 6:readOnly:b',
  'core.CinderVolumeSource': '1:volumeID:s? 2:fsType:s 3:readOnly:b 4:secretRef:LocalObjectReference',
  'core.ClientIPConfig': '1:timeoutSeconds:i32?',
  'core.ClusterTrustBundleProjection': '1:name:s? 2:signerName:s? 3:labelSelector:meta.LabelSelector 5:optional:b? 4:path:s?',
  'core.ConfigMap': '1:metadata:meta.ObjectMeta 4:immutable:b? 2:data:{s} 3:binaryData:{y}',
  'core.ConfigMapEnvSource': '1::LocalObjectReference^ 2:optional:b?',
  'core.ConfigMapKeySelector': '1::LocalObjectReference^ 2:key:s? 3:optional:b?',
  'core.ConfigMapNodeConfigSource': '1:namespace:s? 2:name:s? 3:uid:s 4:resourceVersion:s 5:kubeletConfigKey:s?',
  'core.ConfigMapProjection': '1::LocalObjectReference^ 2:items:KeyToPath* 4:optional:b?',
  'core.ConfigMapVolumeSource': '1::LocalObjectReference^ 2:items:KeyToPath* 3:defaultMode:i32? 4:optional:b?',
  'core.Container': `
    1:name:s? 2:image:s 3:command:s* 4:args:s* 5:workingDir:s 6:ports:ContainerPort* 19:envFrom:EnvFromSource* 7:env:EnvVar*
    8:resources:ResourceRequirements 23:resizePolicy:ContainerResizePolicy* 24:restartPolicy:s? 25:restartPolicyRules:ContainerRestartRule*
    9:volumeMounts:VolumeMount* 21:volumeDevices:VolumeDevice* 10:livenessProbe:Probe 11:readinessProbe:Probe 22:startupProbe:Probe
    12:lifecycle:Lifecycle 13:terminationMessagePath:s 20:terminationMessagePolicy:s 14:imagePullPolicy:s 15:securityContext:SecurityContext
    16:stdin:b 17:stdinOnce:b 18:tty:b`,
  'core.ContainerExtendedResourceRequest': '1:containerName:s? 2:resourceName:s? 3:requestName:s?',
  'core.ContainerImage': '1:names:s* 2:sizeBytes:i64',
  'core.ContainerPort': '1:name:s 2:hostPort:i32 3:containerPort:i32? 4:protocol:s 5:hostIP:s',
  'core.ContainerResizePolicy': '1:resourceName:s? 2:restartPolicy:s?',
  'core.ContainerRestartRule': '1:action:s 2:exitCodes:ContainerRestartRuleOnExitCodes',
  'core.ContainerRestartRuleOnExitCodes': '1:operator:s 2:values:i32*',
  'core.ContainerState': '1:waiting:ContainerStateWaiting 2:running:ContainerStateRunning 3:terminated:ContainerStateTerminated',
  'core.ContainerStateRunning': '1:startedAt:Time',
  'core.ContainerStateTerminated': '1:exitCode:i32? 2:signal:i32 3:reason:s 4:message:s 5:startedAt:Time 6:finishedAt:Time 7:containerID:s',
  'core.ContainerStateWaiting': '1:reason:s 2:message:s',
  'core.ContainerStatus': `
    1:name:s? 2:state:ContainerState 3:lastState:ContainerState 4:ready:b? 5:restartCount:i32? 6:image:s? 7:imageID:s? 8:containerID:s
    9:started:b? 10:allocatedResources:{Quantity} 11:resources:ResourceRequirements 12:volumeMounts:VolumeMountStatus* 13:user:ContainerUser
    14:allocatedResourcesStatus:ResourceStatus* 15:stopSignal:s?`,
  'core.ContainerUser': '1:linux:LinuxContainerUser',
  'core.DaemonEndpoint': '1:Port:i32?',
  'core.DownwardAPIProjection': '1:items:DownwardAPIVolumeFile*',
  'core.DownwardAPIVolumeFile': '1:path:s? 2:fieldRef:ObjectFieldSelector 3:resourceFieldRef:ResourceFieldSelector 4:mode:i32?',
  'core.DownwardAPIVolumeSource': '1:items:DownwardAPIVolumeFile* 2:defaultMode:i32?',
  'core.EmptyDirVolumeSource': '1:medium:s 2:sizeLimit:Quantity',
  'core.EndpointAddress': '1:ip:s? 3:hostname:s 4:nodeName:s? 2:targetRef:ObjectReference',
  'core.EndpointPort': '1:name:s 2:port:i32? 3:protocol:s 4:appProtocol:s?',
  'core.EndpointSubset': '1:addresses:EndpointAddress* 2:notReadyAddresses:EndpointAddress* 3:ports:EndpointPort*',
  'core.Endpoints': '1:metadata:meta.ObjectMeta 2:subsets:EndpointSubset*',
  'core.EnvFromSource': '1:prefix:s 2:configMapRef:ConfigMapEnvSource 3:secretRef:SecretEnvSource',
  'core.EnvVar': '1:name:s? 2:value:s 3:valueFrom:EnvVarSource',
  'core.EnvVarSource': `
    1:fieldRef:ObjectFieldSelector 2:resourceFieldRef:ResourceFieldSelector 3:configMapKeyRef:ConfigMapKeySelector
    4:secretKeyRef:SecretKeySelector 5:fileKeyRef:FileKeySelector`,
  'core.EphemeralContainer': '1::EphemeralContainerCommon^ 2:targetContainerName:s',
  'core.EphemeralContainerCommon': `
    1:name:s? 2:image:s 3:command:s* 4:args:s* 5:workingDir:s 6:ports:ContainerPort* 19:envFrom:EnvFromSource* 7:env:EnvVar*
    8:resources:ResourceRequirements 23:resizePolicy:ContainerResizePolicy* 24:restartPolicy:s? 25:restartPolicyRules:ContainerRestartRule*
    9:volumeMounts:VolumeMount* 21:volumeDevices:VolumeDevice* 10:livenessProbe:Probe 11:readinessProbe:Probe 22:startupProbe:Probe
    12:lifecycle:Lifecycle 13:terminationMessagePath:s 20:terminationMessagePolicy:s 14:imagePullPolicy:s 15:securityContext:SecurityContext
    16:stdin:b 17:stdinOnce:b 18:tty:b`,
  'core.EphemeralVolumeSource': '1:volumeClaimTemplate:PersistentVolumeClaimTemplate',
  'core.Event': `
    1:metadata:meta.ObjectMeta 2:involvedObject:ObjectReference 3:reason:s 4:message:s 5:source:EventSource 6:firstTimestamp:Time
    7:lastTimestamp:Time 8:count:i32 9:type:s 10:eventTime:MicroTime 11:series:EventSeries 12:action:s 13:related:ObjectReference
    14:reportingComponent:s? 15:reportingInstance:s?`,
  'core.EventSeries': '1:count:i32 2:lastObservedTime:MicroTime',
  'core.EventSource': '1:component:s 2:host:s',
  'core.ExecAction': '1:command:s*',
  'core.FCVolumeSource': '1:targetWWNs:s* 2:lun:i32? 3:fsType:s 4:readOnly:b 5:wwids:s*',
  'core.FileKeySelector': '1:volumeName:s? 2:path:s? 3:key:s? 4:optional:b?',
  'core.FlexVolumeSource': '1:driver:s? 2:fsType:s 3:secretRef:LocalObjectReference 4:readOnly:b 5:options:{s}',
  'core.FlockerVolumeSource': '1:datasetName:s 2:datasetUUID:s',
  'core.GCEPersistentDiskVolumeSource': '1:pdName:s? 2:fsType:s 3:partition:i32 4:readOnly:b',
  'core.GRPCAction': '1:port:i32? 2:service:s?',
  'core.GitRepoVolumeSource': '1:repository:s? 2:revision:s 3:directory:s',
  'core.GlusterfsVolumeSource': '1:endpoints:s? 2:path:s? 3:readOnly:b',
  'core.HTTPGetAction': '1:path:s 2:port:IntOrString 3:host:s 4:scheme:s 5:httpHeaders:HTTPHeader*',
  'core.HTTPHeader': '1:name:s? 2:value:s?',
  'core.HostAlias': '1:ip:s? 2:hostnames:s*',
  'core.HostIP': '1:ip:s?',
  'core.HostPathVolumeSource': '1:path:s? 2:type:s?',
  'core.ISCSIVolumeSource': `
    1:targetPortal:s? 2:iqn:s? 3:lun:i32? 4:iscsiInterface:s 5:fsType:s 6:readOnly:b 7:portals:s* 8:chapAuthDiscovery:b 11:chapAuthSession:b
    10:secretRef:LocalObjectReference 12:initiatorName:s?`,
  'core.ImageVolumeSource': '1:reference:s 2:pullPolicy:s',
  'core.ImageVolumeStatus': '1:imageRef:s',
  'core.KeyToPath': '1:key:s? 2:path:s? 3:mode:i32?',
  'core.Lifecycle': '1:postStart:LifecycleHandler 2:preStop:LifecycleHandler 3:stopSignal:s?',
  'core.LifecycleHandler': '1:exec:ExecAction 2:httpGet:HTTPGetAction 3:tcpSocket:TCPSocketAction 4:sleep:SleepAction',
  'core.LimitRange': '1:metadata:meta.ObjectMeta 2:spec:LimitRangeSpec',
  'core.LimitRangeItem': '1:type:s? 2:max:{Quantity} 3:min:{Quantity} 4:default:{Quantity} 5:defaultRequest:{Quantity} 6:maxLimitRequestRatio:{Quantity}',
  'core.LimitRangeSpec': '1:limits:LimitRangeItem*',
  'core.LinuxContainerUser': '1:uid:i64? 2:gid:i64? 3:supplementalGroups:i64*',
  'core.LoadBalancerIngress': '1:ip:s 2:hostname:s 3:ipMode:s? 4:ports:PortStatus*',
  'core.LoadBalancerStatus': '1:ingress:LoadBalancerIngress*',
  'core.LocalObjectReference': '1:name:s',
  'core.ModifyVolumeStatus': '1:targetVolumeAttributesClassName:s 2:status:s?',
  'core.NFSVolumeSource': '1:server:s? 2:path:s? 3:readOnly:b',
  'core.Namespace': '1:metadata:meta.ObjectMeta 2:spec:NamespaceSpec 3:status:NamespaceStatus',
  'core.NamespaceCondition': '1:type:s? 2:status:s? 4:lastTransitionTime:Time 5:reason:s 6:message:s',
  'core.NamespaceSpec': '1:finalizers:s*',
  'core.NamespaceStatus': '1:phase:s 2:conditions:NamespaceCondition*',
  'core.Node': '1:metadata:meta.ObjectMeta 2:spec:NodeSpec 3:status:NodeStatus',
  'core.NodeAddress': '1:type:s? 2:address:s?',
  'core.NodeAffinity': '1:requiredDuringSchedulingIgnoredDuringExecution:NodeSelector 2:preferredDuringSchedulingIgnoredDuringExecution:PreferredSchedulingTerm*',
  'core.NodeAllocatableResourceClaimStatus': '1:resourceClaimName:s? 2:containers:s* 3:resources:{Quantity}',
  'core.NodeCondition': '1:type:s? 2:status:s? 3:lastHeartbeatTime:Time 4:lastTransitionTime:Time 5:reason:s 6:message:s',
  'core.NodeConfigSource': '2:configMap:ConfigMapNodeConfigSource',
  'core.NodeConfigStatus': '1:assigned:NodeConfigSource 2:active:NodeConfigSource 3:lastKnownGood:NodeConfigSource 4:error:s',
  'core.NodeDaemonEndpoints': '1:kubeletEndpoint:DaemonEndpoint',
  'core.NodeFeatures': '1:supplementalGroupsPolicy:b?',
  'core.NodeRuntimeHandler': '1:name:s? 2:features:NodeRuntimeHandlerFeatures',
  'core.NodeRuntimeHandlerFeatures': '1:recursiveReadOnlyMounts:b? 2:userNamespaces:b?',
  'core.NodeSelector': '1:nodeSelectorTerms:NodeSelectorTerm*',
  'core.NodeSelectorRequirement': '1:key:s? 2:operator:s? 3:values:s*',
  'core.NodeSelectorTerm': '1:matchExpressions:NodeSelectorRequirement* 2:matchFields:NodeSelectorRequirement*',
  'core.NodeSpec': '1:podCIDR:s 7:podCIDRs:s* 3:providerID:s 4:unschedulable:b 5:taints:Taint* 6:configSource:NodeConfigSource 2:externalID:s',
  'core.NodeStatus': `
    1:capacity:{Quantity} 2:allocatable:{Quantity} 3:phase:s 4:conditions:NodeCondition* 5:addresses:NodeAddress*
    6:daemonEndpoints:NodeDaemonEndpoints 7:nodeInfo:NodeSystemInfo 8:images:ContainerImage* 9:volumesInUse:s*
    10:volumesAttached:AttachedVolume* 11:config:NodeConfigStatus 12:runtimeHandlers:NodeRuntimeHandler* 13:features:NodeFeatures
    14:declaredFeatures:s*`,
  'core.NodeSwapStatus': '1:capacity:i64?',
  'core.NodeSystemInfo': `
    1:machineID:s? 2:systemUUID:s? 3:bootID:s? 4:kernelVersion:s? 5:osImage:s? 6:containerRuntimeVersion:s? 7:kubeletVersion:s?
    8:kubeProxyVersion:s? 9:operatingSystem:s? 10:architecture:s? 11:swap:NodeSwapStatus`,
  'core.ObjectFieldSelector': '1:apiVersion:s 2:fieldPath:s?',
  'core.ObjectReference': '1:kind:s 2:namespace:s 3:name:s 4:uid:s 5:apiVersion:s 6:resourceVersion:s 7:fieldPath:s',
  'core.PersistentVolumeClaim': '1:metadata:meta.ObjectMeta 2:spec:PersistentVolumeClaimSpec 3:status:PersistentVolumeClaimStatus',
  'core.PersistentVolumeClaimCondition': '1:type:s? 2:status:s? 3:lastProbeTime:Time 4:lastTransitionTime:Time 5:reason:s 6:message:s',
  'core.PersistentVolumeClaimSpec': `
    1:accessModes:s* 4:selector:meta.LabelSelector 2:resources:VolumeResourceRequirements 3:volumeName:s 5:storageClassName:s? 6:volumeMode:s?
    7:dataSource:TypedLocalObjectReference 8:dataSourceRef:TypedObjectReference 9:volumeAttributesClassName:s?`,
  'core.PersistentVolumeClaimStatus': `
    1:phase:s 2:accessModes:s* 3:capacity:{Quantity} 4:conditions:PersistentVolumeClaimCondition* 5:allocatedResources:{Quantity}
    7:allocatedResourceStatuses:{s} 8:currentVolumeAttributesClassName:s? 9:modifyVolumeStatus:ModifyVolumeStatus`,
  'core.PersistentVolumeClaimTemplate': '1:metadata:meta.ObjectMeta 2:spec:PersistentVolumeClaimSpec',
  'core.PersistentVolumeClaimVolumeSource': '1:claimName:s? 2:readOnly:b',
  'core.PhotonPersistentDiskVolumeSource': '1:pdID:s? 2:fsType:s',
  'core.Pod': '1:metadata:meta.ObjectMeta 2:spec:PodSpec 3:status:PodStatus',
  'core.PodAffinity': '1:requiredDuringSchedulingIgnoredDuringExecution:PodAffinityTerm* 2:preferredDuringSchedulingIgnoredDuringExecution:WeightedPodAffinityTerm*',
  'core.PodAffinityTerm': `
    1:labelSelector:meta.LabelSelector 2:namespaces:s* 3:topologyKey:s? 4:namespaceSelector:meta.LabelSelector 5:matchLabelKeys:s*
    6:mismatchLabelKeys:s*`,
  'core.PodAntiAffinity': '1:requiredDuringSchedulingIgnoredDuringExecution:PodAffinityTerm* 2:preferredDuringSchedulingIgnoredDuringExecution:WeightedPodAffinityTerm*',
  'core.PodCertificateProjection': '1:signerName:s 2:keyType:s 3:maxExpirationSeconds:i32? 4:credentialBundlePath:s 5:keyPath:s 6:certificateChainPath:s 7:userAnnotations:{s}',
  'core.PodCondition': '1:type:s? 7:observedGeneration:i64 2:status:s? 3:lastProbeTime:Time 4:lastTransitionTime:Time 5:reason:s 6:message:s',
  'core.PodDNSConfig': '1:nameservers:s* 2:searches:s* 3:options:PodDNSConfigOption*',
  'core.PodDNSConfigOption': '1:name:s 2:value:s?',
  'core.PodExtendedResourceClaimStatus': '1:requestMappings:ContainerExtendedResourceRequest* 2:resourceClaimName:s?',
  'core.PodIP': '1:ip:s?',
  'core.PodOS': '1:name:s?',
  'core.PodReadinessGate': '1:conditionType:s?',
  'core.PodResourceClaim': '1:name:s? 3:resourceClaimName:s? 4:resourceClaimTemplateName:s?',
  'core.PodResourceClaimStatus': '1:name:s? 2:resourceClaimName:s?',
  'core.PodSchedulingGate': '1:name:s?',
  'core.PodSchedulingGroup': '1:podGroupName:s?',
  'core.PodSecurityContext': `
    1:seLinuxOptions:SELinuxOptions 8:windowsOptions:WindowsSecurityContextOptions 2:runAsUser:i64? 6:runAsGroup:i64? 3:runAsNonRoot:b?
    4:supplementalGroups:i64* 12:supplementalGroupsPolicy:s? 5:fsGroup:i64? 7:sysctls:Sysctl* 9:fsGroupChangePolicy:s?
    10:seccompProfile:SeccompProfile 11:appArmorProfile:AppArmorProfile 13:seLinuxChangePolicy:s?`,
  'core.PodSpec': `
    1:volumes:Volume* 20:initContainers:Container* 2:containers:Container* 34:ephemeralContainers:EphemeralContainer* 3:restartPolicy:s
    4:terminationGracePeriodSeconds:i64? 5:activeDeadlineSeconds:i64? 6:dnsPolicy:s 7:nodeSelector:{s} 8:serviceAccountName:s 9:serviceAccount:s
    21:automountServiceAccountToken:b? 10:nodeName:s 11:hostNetwork:b 12:hostPID:b 13:hostIPC:b 27:shareProcessNamespace:b?
    14:securityContext:PodSecurityContext 15:imagePullSecrets:LocalObjectReference* 16:hostname:s 17:subdomain:s 18:affinity:Affinity
    19:schedulerName:s 22:tolerations:Toleration* 23:hostAliases:HostAlias* 24:priorityClassName:s 25:priority:i32? 26:dnsConfig:PodDNSConfig
    28:readinessGates:PodReadinessGate* 29:runtimeClassName:s? 30:enableServiceLinks:b? 31:preemptionPolicy:s? 32:overhead:{Quantity}
    33:topologySpreadConstraints:TopologySpreadConstraint* 35:setHostnameAsFQDN:b? 36:os:PodOS 37:hostUsers:b?
    38:schedulingGates:PodSchedulingGate* 39:resourceClaims:PodResourceClaim* 40:resources:ResourceRequirements 41:hostnameOverride:s?
    43:schedulingGroup:PodSchedulingGroup`,
  'core.PodStatus': `
    17:observedGeneration:i64 1:phase:s 2:conditions:PodCondition* 3:message:s 4:reason:s 11:nominatedNodeName:s 5:hostIP:s 16:hostIPs:HostIP*
    6:podIP:s 12:podIPs:PodIP* 7:startTime:Time 10:initContainerStatuses:ContainerStatus* 8:containerStatuses:ContainerStatus* 9:qosClass:s
    13:ephemeralContainerStatuses:ContainerStatus* 14:resize:s 15:resourceClaimStatuses:PodResourceClaimStatus*
    18:extendedResourceClaimStatus:PodExtendedResourceClaimStatus 19:allocatedResources:{Quantity} 20:resources:ResourceRequirements
    21:nodeAllocatableResourceClaimStatuses:NodeAllocatableResourceClaimStatus*`,
  'core.PodTemplate': '1:metadata:meta.ObjectMeta 2:template:PodTemplateSpec',
  'core.PodTemplateSpec': '1:metadata:meta.ObjectMeta 2:spec:PodSpec',
  'core.PortStatus': '1:port:i32? 2:protocol:s? 3:error:s?',
  'core.PortworxVolumeSource': '1:volumeID:s? 2:fsType:s 3:readOnly:b',
  'core.PreferredSchedulingTerm': '1:weight:i32? 2:preference:NodeSelectorTerm',
  'core.Probe': `
    1::ProbeHandler^ 2:initialDelaySeconds:i32 3:timeoutSeconds:i32 4:periodSeconds:i32 5:successThreshold:i32 6:failureThreshold:i32
    7:terminationGracePeriodSeconds:i64?`,
  'core.ProbeHandler': '1:exec:ExecAction 2:httpGet:HTTPGetAction 3:tcpSocket:TCPSocketAction 4:grpc:GRPCAction',
  'core.ProjectedVolumeSource': '1:sources:VolumeProjection* 2:defaultMode:i32?',
  'core.QuobyteVolumeSource': '1:registry:s? 2:volume:s? 3:readOnly:b 4:user:s 5:group:s 6:tenant:s',
  'core.RBDVolumeSource': '1:monitors:s* 2:image:s? 3:fsType:s 4:pool:s 5:user:s 6:keyring:s 7:secretRef:LocalObjectReference 8:readOnly:b',
  'core.ReplicationController': '1:metadata:meta.ObjectMeta 2:spec:ReplicationControllerSpec 3:status:ReplicationControllerStatus',
  'core.ReplicationControllerCondition': '1:type:s? 2:status:s? 3:lastTransitionTime:Time 4:reason:s 5:message:s',
  'core.ReplicationControllerSpec': '1:replicas:i32? 4:minReadySeconds:i32 2:selector:{s} 3:template:PodTemplateSpec',
  'core.ReplicationControllerStatus': `
    1:replicas:i32? 2:fullyLabeledReplicas:i32 4:readyReplicas:i32 5:availableReplicas:i32 3:observedGeneration:i64
    6:conditions:ReplicationControllerCondition*`,
  'core.ResourceClaim': '1:name:s? 2:request:s',
  'core.ResourceFieldSelector': '1:containerName:s 2:resource:s? 3:divisor:Quantity',
  'core.ResourceHealth': '1:resourceID:s? 2:health:s 6:message:s?',
  'core.ResourceQuota': '1:metadata:meta.ObjectMeta 2:spec:ResourceQuotaSpec 3:status:ResourceQuotaStatus',
  'core.ResourceQuotaSpec': '1:hard:{Quantity} 2:scopes:s* 3:scopeSelector:ScopeSelector',
  'core.ResourceQuotaStatus': '1:hard:{Quantity} 2:used:{Quantity}',
  'core.ResourceRequirements': '1:limits:{Quantity} 2:requests:{Quantity} 3:claims:ResourceClaim*',
  'core.ResourceStatus': '1:name:s? 2:resources:ResourceHealth*',
  'core.SELinuxOptions': '1:user:s 2:role:s 3:type:s 4:level:s',
  'core.ScaleIOVolumeSource': `
    1:gateway:s? 2:system:s? 3:secretRef:LocalObjectReference 4:sslEnabled:b 5:protectionDomain:s 6:storagePool:s 7:storageMode:s 8:volumeName:s
    9:fsType:s 10:readOnly:b`,
  'core.ScopeSelector': '1:matchExpressions:ScopedResourceSelectorRequirement*',
  'core.ScopedResourceSelectorRequirement': '1:scopeName:s? 2:operator:s? 3:values:s*',
  'core.SeccompProfile': '1:type:s? 2:localhostProfile:s?',
  'core.Secret': '1:metadata:meta.ObjectMeta 5:immutable:b? 2:data:{y} 4:stringData:{s} 3:type:s',
  'core.SecretEnvSource': '1::LocalObjectReference^ 2:optional:b?',
  'core.SecretKeySelector': '1::LocalObjectReference^ 2:key:s? 3:optional:b?',
  'core.SecretProjection': '1::LocalObjectReference^ 2:items:KeyToPath* 4:optional:b?',
  'core.SecretVolumeSource': '1:secretName:s 2:items:KeyToPath* 3:defaultMode:i32? 4:optional:b?',
  'core.SecurityContext': `
    1:capabilities:Capabilities 2:privileged:b? 3:seLinuxOptions:SELinuxOptions 10:windowsOptions:WindowsSecurityContextOptions 4:runAsUser:i64?
    8:runAsGroup:i64? 5:runAsNonRoot:b? 6:readOnlyRootFilesystem:b? 7:allowPrivilegeEscalation:b? 9:procMount:s?
    11:seccompProfile:SeccompProfile 12:appArmorProfile:AppArmorProfile`,
  'core.Service': '1:metadata:meta.ObjectMeta 2:spec:ServiceSpec 3:status:ServiceStatus',
  'core.ServiceAccount': '1:metadata:meta.ObjectMeta 2:secrets:ObjectReference* 3:imagePullSecrets:LocalObjectReference* 4:automountServiceAccountToken:b?',
  'core.ServiceAccountTokenProjection': '1:audience:s 2:expirationSeconds:i64? 3:path:s?',
  'core.ServicePort': '1:name:s 2:protocol:s 6:appProtocol:s? 3:port:i32? 4:targetPort:IntOrString 5:nodePort:i32',
  'core.ServiceSpec': `
    1:ports:ServicePort* 2:selector:{s} 3:clusterIP:s 18:clusterIPs:s* 4:type:s 5:externalIPs:s* 7:sessionAffinity:s 8:loadBalancerIP:s
    9:loadBalancerSourceRanges:s* 10:externalName:s 11:externalTrafficPolicy:s 12:healthCheckNodePort:i32 13:publishNotReadyAddresses:b
    14:sessionAffinityConfig:SessionAffinityConfig 19:ipFamilies:s* 17:ipFamilyPolicy:s? 20:allocateLoadBalancerNodePorts:b?
    21:loadBalancerClass:s? 22:internalTrafficPolicy:s? 23:trafficDistribution:s?`,
  'core.ServiceStatus': '1:loadBalancer:LoadBalancerStatus 2:conditions:meta.Condition*',
  'core.SessionAffinityConfig': '1:clientIP:ClientIPConfig',
  'core.SleepAction': '1:seconds:i64?',
  'core.StorageOSVolumeSource': '1:volumeName:s 2:volumeNamespace:s 3:fsType:s 4:readOnly:b 5:secretRef:LocalObjectReference',
  'core.Sysctl': '1:name:s? 2:value:s?',
  'core.TCPSocketAction': '1:port:IntOrString 2:host:s',
  'core.Taint': '1:key:s? 2:value:s 3:effect:s? 4:timeAdded:Time',
  'core.Toleration': '1:key:s 2:operator:s 3:value:s 4:effect:s 5:tolerationSeconds:i64?',
  'core.TopologySpreadConstraint': `
    1:maxSkew:i32? 2:topologyKey:s? 3:whenUnsatisfiable:s? 4:labelSelector:meta.LabelSelector 5:minDomains:i32? 6:nodeAffinityPolicy:s?
    7:nodeTaintsPolicy:s? 8:matchLabelKeys:s*`,
  'core.TypedLocalObjectReference': '1:apiGroup:s? 2:kind:s? 3:name:s?',
  'core.TypedObjectReference': '1:apiGroup:s? 2:kind:s? 3:name:s? 4:namespace:s?',
  'core.Volume': '1:name:s? 2::VolumeSource^',
  'core.VolumeDevice': '1:name:s? 2:devicePath:s?',
  'core.VolumeMount': '1:name:s? 2:readOnly:b 7:recursiveReadOnly:s? 3:mountPath:s? 4:subPath:s 5:mountPropagation:s? 6:subPathExpr:s',
  'core.VolumeMountStatus': '1:name:s? 2:mountPath:s? 3:readOnly:b 4:recursiveReadOnly:s? 5:volumeStatus:VolumeStatus',
  'core.VolumeProjection': `
    1:secret:SecretProjection 2:downwardAPI:DownwardAPIProjection 3:configMap:ConfigMapProjection
    4:serviceAccountToken:ServiceAccountTokenProjection 5:clusterTrustBundle:ClusterTrustBundleProjection
    6:podCertificate:PodCertificateProjection`,
  'core.VolumeResourceRequirements': '1:limits:{Quantity} 2:requests:{Quantity}',
  'core.VolumeSource': `
    1:hostPath:HostPathVolumeSource 2:emptyDir:EmptyDirVolumeSource 3:gcePersistentDisk:GCEPersistentDiskVolumeSource
    4:awsElasticBlockStore:AWSElasticBlockStoreVolumeSource 5:gitRepo:GitRepoVolumeSource 6:secret:SecretVolumeSource 7:nfs:NFSVolumeSource
    8:iscsi:ISCSIVolumeSource 9:glusterfs:GlusterfsVolumeSource 10:persistentVolumeClaim:PersistentVolumeClaimVolumeSource
    11:rbd:RBDVolumeSource 12:flexVolume:FlexVolumeSource 13:cinder:CinderVolumeSource 14:cephfs:CephFSVolumeSource
    15:flocker:FlockerVolumeSource 16:downwardAPI:DownwardAPIVolumeSource 17:fc:FCVolumeSource 18:azureFile:AzureFileVolumeSource
    19:configMap:ConfigMapVolumeSource 20:vsphereVolume:VsphereVirtualDiskVolumeSource 21:quobyte:QuobyteVolumeSource
    22:azureDisk:AzureDiskVolumeSource 23:photonPersistentDisk:PhotonPersistentDiskVolumeSource 26:projected:ProjectedVolumeSource
    24:portworxVolume:PortworxVolumeSource 25:scaleIO:ScaleIOVolumeSource 27:storageos:StorageOSVolumeSource 28:csi:CSIVolumeSource
    29:ephemeral:EphemeralVolumeSource 30:image:ImageVolumeSource`,
  'core.VolumeStatus': '1:image:ImageVolumeStatus',
  'core.VsphereVirtualDiskVolumeSource': '1:volumePath:s? 2:fsType:s 3:storagePolicyName:s 4:storagePolicyID:s',
  'core.WeightedPodAffinityTerm': '1:weight:i32? 2:podAffinityTerm:PodAffinityTerm',
  'core.WindowsSecurityContextOptions': '1:gmsaCredentialSpecName:s? 2:gmsaCredentialSpec:s? 3:runAsUserName:s? 4:hostProcess:b?',
  // discovery
  'discovery.Endpoint': `
    1:addresses:s* 2:conditions:EndpointConditions 3:hostname:s? 4:targetRef:core.ObjectReference 5:deprecatedTopology:{s} 6:nodeName:s?
    7:zone:s? 8:hints:EndpointHints`,
  'discovery.EndpointConditions': '1:ready:b? 2:serving:b? 3:terminating:b?',
  'discovery.EndpointHints': '1:forZones:ForZone* 2:forNodes:ForNode*',
  'discovery.EndpointPort': '1:name:s? 2:protocol:s? 3:port:i32? 4:appProtocol:s?',
  'discovery.EndpointSlice': '1:metadata:meta.ObjectMeta 4:addressType:s? 2:endpoints:Endpoint* 3:ports:EndpointPort*',
  'discovery.ForNode': '1:name:s?',
  'discovery.ForZone': '1:name:s?',
  // meta
  'meta.Condition': '1:type:s? 2:status:s? 3:observedGeneration:i64 4:lastTransitionTime:Time 5:reason:s? 6:message:s?',
  'meta.DeleteOptions': `
    1:gracePeriodSeconds:i64? 2:preconditions:Preconditions 3:orphanDependents:b? 4:propagationPolicy:s? 5:dryRun:s*
    6:ignoreStoreReadErrorWithClusterBreakingPotential:b?`,
  'meta.FieldSelectorRequirement': '1:key:s? 2:operator:s? 3:values:s*',
  'meta.LabelSelector': '1:matchLabels:{s} 2:matchExpressions:LabelSelectorRequirement*',
  'meta.LabelSelectorRequirement': '1:key:s? 2:operator:s? 3:values:s*',
  'meta.ManagedFieldsEntry': '1:manager:s 2:operation:s 3:apiVersion:s 4:time:Time 6:fieldsType:s 7:fieldsV1:FieldsV1 8:subresource:s',
  'meta.ObjectMeta': `
    1:name:s 2:generateName:s 3:namespace:s 4:selfLink:s 5:uid:s 6:resourceVersion:s 7:generation:i64 8:creationTimestamp:Time
    9:deletionTimestamp:Time 10:deletionGracePeriodSeconds:i64? 11:labels:{s} 12:annotations:{s} 13:ownerReferences:OwnerReference*
    14:finalizers:s* 17:managedFields:ManagedFieldsEntry*`,
  'meta.OwnerReference': '5:apiVersion:s? 1:kind:s? 3:name:s? 4:uid:s? 6:controller:b? 7:blockOwnerDeletion:b?',
  'meta.Preconditions': '1:uid:s? 2:resourceVersion:s?',
  // networking
  'networking.HTTPIngressPath': '1:path:s 3:pathType:s? 2:backend:IngressBackend',
  'networking.HTTPIngressRuleValue': '1:paths:HTTPIngressPath*',
  'networking.Ingress': '1:metadata:meta.ObjectMeta 2:spec:IngressSpec 3:status:IngressStatus',
  'networking.IngressBackend': '4:service:IngressServiceBackend 3:resource:core.TypedLocalObjectReference',
  'networking.IngressLoadBalancerIngress': '1:ip:s 2:hostname:s 4:ports:IngressPortStatus*',
  'networking.IngressLoadBalancerStatus': '1:ingress:IngressLoadBalancerIngress*',
  'networking.IngressPortStatus': '1:port:i32? 2:protocol:s? 3:error:s?',
  'networking.IngressRule': '1:host:s 2::IngressRuleValue^',
  'networking.IngressRuleValue': '1:http:HTTPIngressRuleValue',
  'networking.IngressServiceBackend': '1:name:s? 2:port:ServiceBackendPort',
  'networking.IngressSpec': '4:ingressClassName:s? 1:defaultBackend:IngressBackend 2:tls:IngressTLS* 3:rules:IngressRule*',
  'networking.IngressStatus': '1:loadBalancer:IngressLoadBalancerStatus',
  'networking.IngressTLS': '1:hosts:s* 2:secretName:s',
  'networking.ServiceBackendPort': '1:name:s 2:number:i32',
  // certificates
  'certificates.CertificateSigningRequest': '1:metadata:meta.ObjectMeta 2:spec:CertificateSigningRequestSpec 3:status:CertificateSigningRequestStatus',
  'certificates.CertificateSigningRequestCondition': '1:type:s? 6:status:s? 2:reason:s 3:message:s 4:lastUpdateTime:Time 5:lastTransitionTime:Time',
  'certificates.CertificateSigningRequestSpec': `
    1:request:y? 7:signerName:s? 8:expirationSeconds:i32? 5:usages:s* 2:username:s 3:uid:s 4:groups:s* 6:extra:{ExtraValue}`,
  'certificates.CertificateSigningRequestStatus': '1:conditions:CertificateSigningRequestCondition* 2:certificate:y',
  'certificates.ExtraValue': 'list 1:items:s*',
  // policy
  'policy.Eviction': '1:metadata:meta.ObjectMeta 2:deleteOptions:meta.DeleteOptions',
  'policy.PodDisruptionBudget': '1:metadata:meta.ObjectMeta 2:spec:PodDisruptionBudgetSpec 3:status:PodDisruptionBudgetStatus',
  'policy.PodDisruptionBudgetSpec': '1:minAvailable:IntOrString 2:selector:meta.LabelSelector 3:maxUnavailable:IntOrString 4:unhealthyPodEvictionPolicy:s?',
  'policy.PodDisruptionBudgetStatus': `
    1:observedGeneration:i64 2:disruptedPods:{Time} 3:disruptionsAllowed:i32? 4:currentHealthy:i32? 5:desiredHealthy:i32? 6:expectedPods:i32?
    7:conditions:meta.Condition*`,
  // rbac
  'rbac.AggregationRule': '1:clusterRoleSelectors:meta.LabelSelector*',
  'rbac.ClusterRole': '1:metadata:meta.ObjectMeta 2:rules:PolicyRule* 3:aggregationRule:AggregationRule',
  'rbac.ClusterRoleBinding': '1:metadata:meta.ObjectMeta 2:subjects:Subject* 3:roleRef:RoleRef',
  'rbac.PolicyRule': '1:verbs:s* 2:apiGroups:s* 3:resources:s* 4:resourceNames:s* 5:nonResourceURLs:s*',
  'rbac.Role': '1:metadata:meta.ObjectMeta 2:rules:PolicyRule*',
  'rbac.RoleBinding': '1:metadata:meta.ObjectMeta 2:subjects:Subject* 3:roleRef:RoleRef',
  'rbac.RoleRef': '1:apiGroup:s? 2:kind:s? 3:name:s?',
  'rbac.Subject': '1:kind:s? 2:apiGroup:s 3:name:s? 4:namespace:s',
  // scheduling
  'scheduling.PriorityClass': '1:metadata:meta.ObjectMeta 2:value:i32? 3:globalDefault:b 4:description:s 5:preemptionPolicy:s?',
};

/**
 * The message of each top-level kind, keyed `apiVersion/kind` as the envelope's TypeMeta names
 * it. DeleteOptions is registered in every group version upstream, so clients may name it
 * under any apiVersion (see kindMessage in decode.ts).
 */
export const kindTable: Readonly<Record<string, string>> = {
  'v1/Namespace': 'core.Namespace',
  'v1/ConfigMap': 'core.ConfigMap',
  'v1/Secret': 'core.Secret',
  'v1/Service': 'core.Service',
  'v1/ServiceAccount': 'core.ServiceAccount',
  'v1/Pod': 'core.Pod',
  'v1/PodTemplate': 'core.PodTemplate',
  'v1/ReplicationController': 'core.ReplicationController',
  'v1/ResourceQuota': 'core.ResourceQuota',
  'v1/LimitRange': 'core.LimitRange',
  'v1/Endpoints': 'core.Endpoints',
  'v1/Node': 'core.Node',
  'v1/Binding': 'core.Binding',
  'v1/Event': 'core.Event',
  'meta.k8s.io/v1/DeleteOptions': 'meta.DeleteOptions',
  'apps/v1/Deployment': 'apps.Deployment',
  'apps/v1/ReplicaSet': 'apps.ReplicaSet',
  'apps/v1/DaemonSet': 'apps.DaemonSet',
  'apps/v1/StatefulSet': 'apps.StatefulSet',
  'apps/v1/ControllerRevision': 'apps.ControllerRevision',
  'batch/v1/Job': 'batch.Job',
  'batch/v1/CronJob': 'batch.CronJob',
  'certificates.k8s.io/v1/CertificateSigningRequest': 'certificates.CertificateSigningRequest',
  'policy/v1/Eviction': 'policy.Eviction',
  'policy/v1/PodDisruptionBudget': 'policy.PodDisruptionBudget',
  'autoscaling/v1/Scale': 'autoscaling.Scale',
  'autoscaling/v1/HorizontalPodAutoscaler': 'autoscaling.HorizontalPodAutoscaler',
  'coordination.k8s.io/v1/Lease': 'coordination.Lease',
  'discovery.k8s.io/v1/EndpointSlice': 'discovery.EndpointSlice',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'authorization.SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'authorization.SelfSubjectRulesReview',
  'authentication.k8s.io/v1/TokenRequest': 'authentication.TokenRequest',
  'authentication.k8s.io/v1/SelfSubjectReview': 'authentication.SelfSubjectReview',
  'rbac.authorization.k8s.io/v1/Role': 'rbac.Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'rbac.ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'rbac.RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'rbac.ClusterRoleBinding',
  'networking.k8s.io/v1/Ingress': 'networking.Ingress',
  'scheduling.k8s.io/v1/PriorityClass': 'scheduling.PriorityClass',
};
