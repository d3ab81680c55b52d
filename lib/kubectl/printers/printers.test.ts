import { describe, expect, test } from 'vitest';
import { alignRows, alignTabs } from './tabwriter.js';
import { toYAML, sortYAMLKeys } from './yaml.js';
import { goJSON } from './json.js';
import { executeTemplate, relaxedJSONPath } from './jsonpath-template.js';
import { customColumnCells, parseCustomColumns, goValue } from './custom-columns.js';
import { naturalLess, sortByPath } from './sort.js';
import { formatLabels, formatTable, parseOutput, formatObjects } from './index.js';
import { RememberingTabWriter } from './watch-writer.js';

describe('tabwriter (kubectl get: minwidth 6, padding 3)', () => {
  test('columns are the widest cell plus three, at least six; the last cell is not padded', () => {
    expect(alignRows([['NAME', 'DATA', 'AGE'], ['cfg', '2', '47s']])).toBe('NAME   DATA   AGE\ncfg    2      47s\n');
    expect(alignRows([['cfg', '2', '47s']])).toBe('cfg   2     47s\n');
  });
  test('a shorter line ends the column block, as Go tabwriter', () => {
    expect(alignTabs('a\tb\tc\nlonger-cell\td\n\nx\ty\n')).toBe('a             b     c\nlonger-cell   d\n\nx     y\n');
  });
  test('describe settings: minwidth 0, padding 2, indentation part of the cell', () => {
    expect(alignTabs('Name:\tdp\nAnnotations:\t<none>\n', { minWidth: 0, padding: 2 })).toBe('Name:         dp\nAnnotations:  <none>\n');
  });
  test('watch rows keep the widths already printed and grow when needed', () => {
    const w = new RememberingTabWriter();
    expect(w.format([['NAME', 'DATA', 'AGE'], ['cfg', '2', '1s']])).toBe('NAME   DATA   AGE\ncfg    2      1s\n');
    expect(w.format([['x', '1', '0s']])).toBe('x      1      0s\n');
    expect(w.format([['a-much-longer-name', '1', '0s']])).toBe('a-much-longer-name   1      0s\n');
  });
});

describe('YAML as kubectl -o yaml writes it (go-yaml v2)', () => {
  test('strings that would read as other types are double-quoted; others stay plain', () => {
    const y = toYAML({ a: '1', b: 'true', c: '', d: 'y', e: '2024-01-02T03:04:05Z', f: 'hello', g: '0x1F', h: '1e3', i: '1:30', j: 'v1.2', k: null, l: 3, m: 0.5, n: false });
    expect(y).toBe('a: "1"\nb: "true"\nc: ""\nd: "y"\ne: "2024-01-02T03:04:05Z"\nf: hello\ng: "0x1F"\nh: "1e3"\ni: "1:30"\nj: v1.2\nk: null\nl: 3\nm: 0.5\n"n": false\n');
  });
  test('indicators force single quotes, non-printable characters double quotes with escapes', () => {
    expect(toYAML({ s: '*/1 * * * *', t: 'a: b', u: "it's", v: 'tab\there', w: '- x', x: '#c' })).toBe(
      "s: '*/1 * * * *'\nt: 'a: b'\nu: it's\nv: \"tab\\there\"\nw: '- x'\nx: '#c'\n",
    );
  });
  test('lists are not indented under their key; maps in lists start on the dash line; empty collections are flow', () => {
    expect(toYAML({ spec: { containers: [{ name: 'web', args: ['sleep', '10'], resources: {} }], tolerations: [] } })).toBe(
      'spec:\n  containers:\n  - args:\n    - sleep\n    - "10"\n    name: web\n    resources: {}\n  tolerations: []\n',
    );
  });
  test('strings with newlines are literal blocks with the right chomping', () => {
    expect(toYAML({ a: '{"x":1}\n', b: 'one\ntwo', c: 'x\n\n' })).toBe('a: |\n  {"x":1}\nb: |-\n  one\n  two\nc: |+\n  x\n\n');
  });
  test('long plain text folds at the first space past column 80', () => {
    const long = 'hello world this is a very long string that goes beyond eighty characters for sure yes indeed it does';
    expect(toYAML({ data: { long } })).toBe(
      'data:\n  long: hello world this is a very long string that goes beyond eighty characters\n    for sure yes indeed it does\n',
    );
  });
  test('keys in go-yaml order: digits by value, letters after other characters', () => {
    expect(sortYAMLKeys(['b', 'a10', 'a9', 'a_b', 'aZ', 'A'])).toEqual(['A', 'a_b', 'a9', 'a10', 'aZ', 'b']);
  });
});

test('JSON is sorted, indented by four and HTML-escaped, as Go encoding/json', () => {
  expect(goJSON({ b: '<x>&', a: [1, { d: 2, c: 1 }] }, '    ')).toBe('{\n    "a": [\n        1,\n        {\n            "c": 1,\n            "d": 2\n        }\n    ],\n    "b": "\\u003cx\\u003e\\u0026"\n}');
});

describe('JSONPath templates', () => {
  const list = { kind: 'List', items: [{ metadata: { name: 'a', labels: { 'app.kubernetes.io/name': 'x' } }, spec: { n: 1 } }, { metadata: { name: 'b' }, spec: { n: 2 } }] };
  test('several results of one action are joined by spaces; objects print as JSON', () => {
    expect(executeTemplate('{.items[*].metadata.name}', list)).toBe('a b');
    expect(executeTemplate('{.items[1].spec}', list)).toBe('{"n":2}');
    expect(executeTemplate('{.kind}', list)).toBe('List');
  });
  test('range, quoted literals and text', () => {
    expect(executeTemplate('{range .items[*]}{.metadata.name}{"\\t"}{.spec.n}{"\\n"}{end}', list)).toBe('a\t1\nb\t2\n');
    expect(executeTemplate('names: {.items[0].metadata.name}', list)).toBe('names: a');
  });
  test('escaped dots address keys with dots; missing keys print nothing', () => {
    expect(executeTemplate('{.items[0].metadata.labels.app\\.kubernetes\\.io/name}', list)).toBe('x');
    expect(executeTemplate('{.items[0].nope}', list)).toBe('');
  });
  test('filters', () => {
    expect(executeTemplate('{.items[?(@.spec.n==2)].metadata.name}', list)).toBe('b');
  });
  test('relaxed paths as custom-columns and --sort-by accept them', () => {
    expect(relaxedJSONPath('metadata.name')).toBe('{.metadata.name}');
    expect(relaxedJSONPath('.spec.nodeName')).toBe('{.spec.nodeName}');
    expect(relaxedJSONPath('{.a}')).toBe('{.a}');
  });
  test('unclosed ranges are errors before any output', () => {
    expect(() => parseOutput('jsonpath={range .items[*]}', { cwd: '.' })).toThrow(/error parsing jsonpath/);
  });
});

describe('custom columns', () => {
  test('values print as Go %v, <none> when missing, several joined by commas', () => {
    const cols = parseCustomColumns('POD:metadata.name,NODE:.spec.nodeName,L:.metadata.labels,C:.spec.containers[*].name');
    const pod = { metadata: { name: 'p', labels: { b: '2', a: '1' } }, spec: { containers: [{ name: 'x' }, { name: 'y' }] } };
    expect(customColumnCells(pod, cols)).toEqual(['p', '<none>', 'map[a:1 b:2]', 'x,y']);
    expect(goValue(['a', 1])).toBe('[a 1]');
    expect(formatObjects({ kind: 'custom-columns', columns: cols.slice(0, 2) }, [pod], false)).toBe('POD   NODE\np     <none>\n');
  });
  test('a spec without a colon is refused with kubectl\'s message', () => {
    expect(() => parseCustomColumns('NAME')).toThrow('unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>');
  });
});

describe('--sort-by', () => {
  test('natural order for strings, numbers by value, quantities by amount, missing first', () => {
    expect(naturalLess('pod-2', 'pod-10')).toBe(true);
    const objs = [{ n: 'pod-10', q: '1Gi', i: 3 }, { n: 'pod-2', q: '512Mi', i: 20 }, { x: 1 }];
    expect(sortByPath(objs, '.n', (o) => o).map((o) => o.n)).toEqual([undefined, 'pod-2', 'pod-10']);
    expect(sortByPath(objs, '{.q}', (o) => o).map((o) => o.q)).toEqual([undefined, '512Mi', '1Gi']);
    expect(sortByPath(objs, 'i', (o) => o).map((o) => o.i)).toEqual([undefined, 3, 20]);
  });
  test('a field no object has is an error', () => {
    expect(() => sortByPath([{ a: 1 }], '.spec.foo', (o) => o)).toThrow('couldn\'t find any field with path "{.spec.foo}" in the list of objects');
  });
});

describe('server tables', () => {
  const table = {
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name' },
      { name: 'Data', type: 'integer' },
      { name: 'Extra', type: 'string', priority: 1 },
    ],
    rows: [{ cells: ['cfg', 2, 'e'], object: { metadata: { name: 'cfg', namespace: 'default', labels: { 'app.kubernetes.io/name': 'foo', app: 'bar' } } } }],
  };
  test('kubectl decorations: namespace, kind prefix, label columns, labels, wide', () => {
    expect(formatTable(table, {})).toBe('NAME   DATA\ncfg    2\n');
    expect(formatTable(table, { wide: true, withNamespace: true, kindPrefix: 'configmap' })).toBe('NAMESPACE   NAME            DATA   EXTRA\ndefault     configmap/cfg   2      e\n');
    expect(formatTable(table, { labelColumns: ['app.kubernetes.io/name', 'z'], showLabels: true, noHeaders: true })).toBe('cfg   2     foo         app.kubernetes.io/name=foo,app=bar\n');
    expect(formatTable({ ...table, rows: [] }, {})).toBe('');
  });
  test('labels sort as key=value strings, as labels.Set.String', () => {
    expect(formatLabels({ app: 'bar', 'app.kubernetes.io/name': 'foo' })).toBe('app.kubernetes.io/name=foo,app=bar');
    expect(formatLabels({})).toBe('<none>');
  });
  test('unknown output formats list the allowed ones', () => {
    expect(() => parseOutput('foo', { cwd: '.' })).toThrow(/unable to match a printer suitable for the output format "foo", allowed formats are: custom-columns,/);
  });
});
