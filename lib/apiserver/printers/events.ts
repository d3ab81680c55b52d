/** Printer for events.k8s.io/v1 Events: the core/v1 event columns, from the new field names. */
import type { Event, EventsV1Event } from '../../api/index.js';
import { registerPrinter } from './table.js';
import { eventColumns, eventRow } from './core.js';

/** The core/v1 view of an events.k8s.io/v1 event (the fields map one to one). */
export function toCoreEvent(e: EventsV1Event): Event {
  return {
    metadata: e.metadata,
    involvedObject: e.regarding ?? {},
    related: e.related,
    reason: e.reason,
    message: e.note,
    type: e.type,
    action: e.action,
    eventTime: e.eventTime,
    series: e.series,
    reportingComponent: e.reportingController,
    reportingInstance: e.reportingInstance,
    source: e.deprecatedSource,
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    count: e.deprecatedCount,
  };
}

registerPrinter('events.k8s.io', 'events', { columns: eventColumns, row: (o, now) => eventRow(toCoreEvent(o as EventsV1Event), now) });
