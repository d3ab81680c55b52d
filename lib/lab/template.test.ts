import { describe, expect, test } from 'vitest';
import { TemplateError, expandCommand, parseUnit, renderTemplate, splitWords, templateVariables } from './template.js';

describe('templates', () => {
  test('${VAR} is replaced inside its word; $VAR alone splits into words and vanishes when empty', () => {
    const vars = { BIN: '/usr/bin/node', DIR: '/a b', FLAGS: '--x=1  --y=2', EMPTY: '' };
    expect(expandCommand('${BIN} --dir=${DIR} $FLAGS $EMPTY --z', vars)).toEqual(['/usr/bin/node', '--dir=/a b', '--x=1', '--y=2', '--z']);
  });

  test('quotes group words; $$ is a dollar', () => {
    expect(splitWords(`a "b c" 'd e' f`)).toEqual(['a', 'b c', 'd e', 'f']);
    expect(expandCommand('echo $$HOME', {})).toEqual(['echo', '$HOME']);
  });

  test('an unknown variable is an error naming it and where', () => {
    expect(() => renderTemplate('server: ${APISERVER_URL}', {}, 'kc')).toThrow(TemplateError);
    expect(() => expandCommand('x $NOPE', { A: '1' }, 'unit.service')).toThrow(/unit\.service: variable NOPE is not set/);
  });

  test('templateVariables lists braced and bare names', () => {
    expect(templateVariables('${A} --b=${B}/x $C $$D')).toEqual(['A', 'B', 'C']);
  });

  test('parseUnit reads continuations, ExecStartPre, Environment and ignores comments', () => {
    const u = parseUnit('x.service', ['# ExecStart=/bin/false', '[Unit]', 'Description=X on ${N}', '[Service]', 'Environment=A=1 "B=two words"', 'ExecStartPre=-/bin/mkdir -p /d', 'ExecStart=/bin/x \\', '  --a=1 \\', '  --b=2', '[Install]', 'WantedBy=multi-user.target'].join('\n'));
    expect(u.description).toBe('X on ${N}');
    expect(u.execStartPre).toEqual(['-/bin/mkdir -p /d']);
    expect(splitWords(u.execStart)).toEqual(['/bin/x', '--a=1', '--b=2']);
    expect(u.environment).toEqual({ A: '1', B: 'two words' });
  });
});
