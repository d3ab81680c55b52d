import { describe, expect, test } from 'vitest';
import { f, parseFlags, FlagParseError } from './flags.js';

const defs = {
  namespace: f('string', '', 'ns', { short: 'n' }),
  output: f('string', '', 'out', { short: 'o' }),
  watch: f('bool', false, 'w', { short: 'w' }),
  all: f('bool', false, 'A', { short: 'A' }),
  filename: f('stringArray', [], 'f', { short: 'f' }),
  'label-columns': f('stringSlice', [], 'L', { short: 'L' }),
  replicas: f('int', 0, 'r'),
  cascade: f('string', 'background', 'c', { noOptDefault: 'background' }),
};

describe('kubectl-style flags', () => {
  test('long and short forms, attached values, grouped booleans, positional arguments anywhere', () => {
    const p = parseFlags(['get', '-nkube-system', 'pods', '-oyaml', '-wA', '--replicas=3', '-f', 'a', '-f=b', '-L', 'x,y', '-L', 'z'], defs);
    expect(p.args).toEqual(['get', 'pods']);
    expect(p.values).toMatchObject({ namespace: 'kube-system', output: 'yaml', watch: true, all: true, replicas: 3, filename: ['a', 'b'], 'label-columns': ['x', 'y', 'z'] });
    expect(p.changed.has('namespace')).toBe(true);
  });
  test('-- ends the flags', () => {
    const p = parseFlags(['run', 'x', '--', 'sleep', '-n', '1'], defs);
    expect(p.args).toEqual(['run', 'x']);
    expect(p.dashArgs).toEqual(['sleep', '-n', '1']);
  });
  test('a bare flag with a default-when-bare value', () => {
    expect(parseFlags(['--cascade'], defs).values.cascade).toBe('background');
    expect(parseFlags(['--cascade=orphan'], defs).values.cascade).toBe('orphan');
  });
  test.each([
    [['--nope'], 'unknown flag: --nope'],
    [['-x'], "unknown shorthand flag: 'x' in -x"],
    [['-n'], "flag needs an argument: 'n' in -n"],
    [['--namespace'], 'flag needs an argument: --namespace'],
    [['--replicas=abc'], 'invalid argument "abc" for "--replicas" flag: strconv.ParseInt: parsing "abc": invalid syntax'],
  ])('%j fails with pflag\'s message', (argv, msg) => {
    expect(() => parseFlags(argv, defs)).toThrow(new FlagParseError(msg));
  });
});
