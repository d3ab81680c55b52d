import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './metrics.js';

describe('metrics text format', () => {
  it('names labels in sorted order, so that one series is one line whatever order they were given in', () => {
    const r = new MetricsRegistry();
    const c = r.counter('requests_total', 'Requests.');
    c.inc({ verb: 'get', code: '200' });
    c.inc({ code: '200', verb: 'get' });
    c.inc({ code: '404', verb: 'get' }, 2);
    expect(r.render()).toBe('# HELP requests_total Requests.\n# TYPE requests_total counter\nrequests_total{code="200",verb="get"} 2\nrequests_total{code="404",verb="get"} 2\n');
    expect(c.get({ verb: 'get', code: '404' })).toBe(2);
  });

  it('escapes backslashes, quotes and newlines in label values', () => {
    const r = new MetricsRegistry();
    r.gauge('g', 'A gauge.').set({ path: 'a\\b"c\nd' }, 1);
    expect(r.render()).toContain('g{path="a\\\\b\\"c\\nd"} 1\n');
  });

  it('writes a series without labels bare, and histograms with cumulative buckets', () => {
    const r = new MetricsRegistry();
    r.counter('plain_total', 'Plain.').inc();
    r.histogram('h_seconds', 'H.', [0.1, 1]).observe({ op: 'x' }, 0.5);
    const text = r.render();
    expect(text).toContain('plain_total 1\n');
    expect(text).toMatch(/h_seconds_bucket\{op="x",le="0.1"\} 0/);
    expect(text).toMatch(/h_seconds_bucket\{op="x",le="1"\} 1/);
    expect(text).toMatch(/h_seconds_count\{op="x"\} 1/);
  });
});
