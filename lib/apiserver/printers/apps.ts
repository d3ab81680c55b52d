/** Printers for apps/v1 kinds, with upstream's columns. */
import type { Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision, ReplicationController } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter, formatLabels, formatSelector, containerCells, type Column, type Printer } from './table.js';

const containersColumn: Column = { name: 'Containers', type: 'string', priority: 1, description: 'Names of the containers of the pod template.' };
const imagesColumn: Column = { name: 'Images', type: 'string', priority: 1, description: 'Images of the containers of the pod template.' };
const selectorColumn: Column = { name: 'Selector', type: 'string', priority: 1, description: 'Label selector of the pods.' };

registerPrinter('apps', 'deployments', {
  columns: [
    nameColumn,
    { name: 'Ready', type: 'string', description: 'Ready pods out of the desired number.' },
    { name: 'Up-to-date', type: 'integer', description: 'Pods made from the current template.' },
    { name: 'Available', type: 'integer', description: 'Pods ready for at least minReadySeconds.' },
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  row(o, now) {
    const d = o as Deployment;
    const [names, images] = containerCells(d.spec?.template?.spec);
    return [
      d.metadata.name,
      `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
      d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0,
      age(d.metadata.creationTimestamp, now),
      names,
      images,
      formatSelector(d.spec?.selector),
    ];
  },
});

/**
 * ReplicaSets and ReplicationControllers print alike: DESIRED CURRENT READY AGE, with -o wide
 * CONTAINERS IMAGES SELECTOR; only the form of their selector differs.
 */
export function replicaPrinter(selectorText: (o: ReplicaSet | ReplicationController) => string): Printer {
  return {
    columns: [
      nameColumn,
      { name: 'Desired', type: 'integer', description: 'Desired number of pods.' },
      { name: 'Current', type: 'integer', description: 'Number of pods.' },
      { name: 'Ready', type: 'integer', description: 'Number of ready pods.' },
      ageColumn,
      containersColumn,
      imagesColumn,
      selectorColumn,
    ],
    row(o, now) {
      const r = o as ReplicaSet | ReplicationController;
      const [names, images] = containerCells(r.spec?.template?.spec);
      return [r.metadata.name, r.spec?.replicas ?? 0, r.status?.replicas ?? 0, r.status?.readyReplicas ?? 0, age(r.metadata.creationTimestamp, now), names, images, selectorText(r)];
    },
  };
}

registerPrinter('apps', 'replicasets', replicaPrinter((r) => formatSelector((r as ReplicaSet).spec?.selector)));

registerPrinter('apps', 'daemonsets', {
  columns: [
    nameColumn,
    { name: 'Desired', type: 'integer', description: 'Nodes that should run the daemon pod.' },
    { name: 'Current', type: 'integer', description: 'Nodes running the daemon pod.' },
    { name: 'Ready', type: 'integer', description: 'Nodes whose daemon pod is ready.' },
    { name: 'Up-to-date', type: 'integer', description: 'Nodes running the current template.' },
    { name: 'Available', type: 'integer', description: 'Nodes whose daemon pod is available.' },
    { name: 'Node Selector', type: 'string', description: 'Node selector of the pod template.' },
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  row(o, now) {
    const ds = o as DaemonSet;
    const st = ds.status;
    const [names, images] = containerCells(ds.spec?.template?.spec);
    return [
      ds.metadata.name,
      st?.desiredNumberScheduled ?? 0,
      st?.currentNumberScheduled ?? 0,
      st?.numberReady ?? 0,
      st?.updatedNumberScheduled ?? 0,
      st?.numberAvailable ?? 0,
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      age(ds.metadata.creationTimestamp, now),
      names,
      images,
      formatSelector(ds.spec?.selector),
    ];
  },
});

registerPrinter('apps', 'statefulsets', {
  columns: [nameColumn, { name: 'Ready', type: 'string', description: 'Ready pods out of the desired number.' }, ageColumn, containersColumn, imagesColumn],
  row(o, now) {
    const ss = o as StatefulSet;
    const [names, images] = containerCells(ss.spec?.template?.spec);
    return [ss.metadata.name, `${ss.status?.readyReplicas ?? 0}/${ss.spec?.replicas ?? 0}`, age(ss.metadata.creationTimestamp, now), names, images];
  },
});

/** `<kind>.<group>/<name>` (lower case kind) of the controller of an object, or `<none>`. */
export function controllerName(refs: { apiVersion: string; kind: string; name: string; controller?: boolean }[] | undefined): string {
  const ref = (refs ?? []).find((r) => r.controller);
  if (!ref) return '<none>';
  const slash = ref.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : ref.apiVersion.slice(0, slash);
  if (!ref.kind) return ref.name;
  return `${(group ? `${ref.kind}.${group}` : ref.kind).toLowerCase()}/${ref.name}`;
}

registerPrinter('apps', 'controllerrevisions', {
  columns: [
    nameColumn,
    { name: 'Controller', type: 'string', description: 'The controller that owns the revision.' },
    { name: 'Revision', type: 'integer', description: 'Revision number.' },
    ageColumn,
  ],
  row(o, now) {
    const cr = o as ControllerRevision;
    return [cr.metadata.name, controllerName(cr.metadata.ownerReferences), cr.revision, age(cr.metadata.creationTimestamp, now)];
  },
});
