/**
 * events.k8s.io/v1: the newer shape of Events. Upstream stores both versions in one place and
 * converts between them; tkube keeps them as two resources (see builtin.ts), and `kubectl get
 * events` keeps using core/v1, which discovery lists first.
 */
import { z, typeMeta, named, MicroTime, Time, int32, str, i32, opt, req } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';
import { ObjectReferenceSchema, EventSourceSchema } from '../core/v1.js';

const P = 'io.k8s.api.events.v1';

export const EventsV1EventSeriesSchema = named(
  z.object({
    count: req(int32(), 'Times the event has occurred so far in the series.'),
    lastObservedTime: req(MicroTime, 'When the last occurrence was seen.'),
  }),
  `${P}.EventSeries`,
  'Repeats of an event, reported periodically instead of one event per occurrence.',
);

export const EventsV1EventSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    eventTime: req(MicroTime.nullable(), 'When the event was first observed. Required.'),
    series: opt(EventsV1EventSeriesSchema, 'Repeats of the event; unset for a single occurrence.'),
    reportingController: str('Controller that emitted the event, e.g. kubernetes.io/kubelet. Required for new events.'),
    reportingInstance: str('Instance of the controller, e.g. the kubelet host name. Required for new events, at most 128 characters.'),
    action: str('What the controller did or failed to do, e.g. Binding or Pulling. Required for new events, at most 128 characters.'),
    reason: str('Short machine-readable reason, e.g. Scheduled. Required for new events, at most 128 characters.'),
    regarding: opt(ObjectReferenceSchema, 'The object this event is about.'),
    related: opt(ObjectReferenceSchema, 'A second object involved, e.g. the node of a scheduling event.'),
    note: str('Human-readable description, at most 1kB.'),
    type: str('Normal or Warning.'),
    deprecatedSource: opt(EventSourceSchema, 'Reporter in the core/v1 shape; must be unset for new events.'),
    deprecatedFirstTimestamp: opt(Time.nullable(), 'First occurrence in the core/v1 shape; must be unset for new events.'),
    deprecatedLastTimestamp: opt(Time.nullable(), 'Last occurrence in the core/v1 shape; must be unset for new events.'),
    deprecatedCount: i32('Occurrence count in the core/v1 shape; must be unset for new events.'),
  }),
  `${P}.Event`,
  'A report of something that happened to an object, emitted by a controller.',
);
export type EventsV1Event = z.infer<typeof EventsV1EventSchema>;
