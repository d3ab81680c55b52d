/** Validation of events.k8s.io/v1 Events: new-style events must use the new fields only. */
import { fieldPath, isQualifiedName, type FieldError } from '../../machinery/index.js';
import type { EventsV1Event } from './v1.js';

const reportingInstanceLimit = 128;
const actionLimit = 128;
const reasonLimit = 128;
const noteLimit = 1024;

export function validateEventsV1Event(e: EventsV1Event): FieldError[] {
  const errs: FieldError[] = [];
  if (!e.eventTime) errs.push(fieldPath('eventTime').required());
  if (e.type !== 'Normal' && e.type !== 'Warning') errs.push(fieldPath('type').invalid('', `has invalid value: ${e.type ?? ''}`));
  if (e.deprecatedFirstTimestamp) errs.push(fieldPath('deprecatedFirstTimestamp').invalid('', 'needs to be unset'));
  if (e.deprecatedLastTimestamp) errs.push(fieldPath('deprecatedLastTimestamp').invalid('', 'needs to be unset'));
  if (e.deprecatedCount) errs.push(fieldPath('deprecatedCount').invalid('', 'needs to be unset'));
  if (e.deprecatedSource?.component || e.deprecatedSource?.host) errs.push(fieldPath('deprecatedSource').invalid('', 'needs to be unset'));
  const rc = e.reportingController ?? '';
  if (!rc) errs.push(fieldPath('reportingController').required());
  else for (const m of isQualifiedName(rc)) errs.push(fieldPath('reportingController').invalid(rc, m));
  const checkLength = (field: 'reportingInstance' | 'action' | 'reason', limit: number) => {
    const v = e[field] ?? '';
    if (!v) errs.push(fieldPath(field).required());
    else if (v.length > limit) errs.push(fieldPath(field).invalid('', `can have at most ${limit} characters`));
  };
  checkLength('reportingInstance', reportingInstanceLimit);
  checkLength('action', actionLimit);
  checkLength('reason', reasonLimit);
  if ((e.note ?? '').length > noteLimit) errs.push(fieldPath('note').invalid('', `can have at most ${noteLimit} characters`));
  if (e.series) {
    if (e.series.count < 2) errs.push(fieldPath('series.count').invalid('', 'should be at least 2'));
    if (!e.series.lastObservedTime) errs.push(fieldPath('series.lastObservedTime').required());
  }
  if (e.regarding?.namespace && e.metadata.namespace && e.regarding.namespace !== e.metadata.namespace)
    errs.push(fieldPath('regarding.namespace').invalid(e.regarding.namespace, 'does not match event.namespace'));
  return errs;
}
