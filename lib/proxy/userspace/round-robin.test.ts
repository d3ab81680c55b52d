import { describe, expect, it } from 'vitest';
import { RoundRobinBalancer } from './round-robin.js';

describe('RoundRobinBalancer', () => {
  it('rotates strictly over the endpoints', () => {
    const b = new RoundRobinBalancer();
    b.update('s', ['a:1', 'b:1', 'c:1'], 0);
    expect(Array.from({ length: 7 }, () => b.next('s', '10.0.0.1'))).toEqual(['a:1', 'b:1', 'c:1', 'a:1', 'b:1', 'c:1', 'a:1']);
  });

  it('has nothing for an unknown or empty service port', () => {
    const b = new RoundRobinBalancer();
    expect(b.next('nope', '10.0.0.1')).toBeUndefined();
    b.update('s', [], 0);
    expect(b.next('s', '10.0.0.1')).toBeUndefined();
  });

  it('keeps the rotation when the same list comes again, restarts it when the list changes', () => {
    const b = new RoundRobinBalancer();
    b.update('s', ['a:1', 'b:1', 'c:1'], 0);
    b.next('s', 'x');
    b.update('s', ['a:1', 'b:1', 'c:1'], 0);
    expect(b.next('s', 'x')).toBe('b:1');
    b.update('s', ['a:1', 'c:1'], 0);
    expect([b.next('s', 'x'), b.next('s', 'x'), b.next('s', 'x')]).toEqual(['a:1', 'c:1', 'a:1']);
  });

  it('pins a client while it returns within the timeout, and lets it go after', () => {
    let now = 0;
    const b = new RoundRobinBalancer(() => now);
    b.update('s', ['a:1', 'b:1', 'c:1'], 10);
    expect(b.next('s', 'client-1')).toBe('a:1');
    expect(b.next('s', 'client-2')).toBe('b:1');
    now = 9_000;
    expect(b.next('s', 'client-1')).toBe('a:1');
    now = 18_000; // 9 s after the last use: still pinned (the timeout slides)
    expect(b.next('s', 'client-1')).toBe('a:1');
    now = 28_001;
    expect(b.next('s', 'client-1')).toBe('c:1');
  });

  it('moves a pinned client on when asked (its backend failed) or when the backend is gone', () => {
    const b = new RoundRobinBalancer(() => 0);
    b.update('s', ['a:1', 'b:1'], 100);
    expect(b.next('s', 'c')).toBe('a:1');
    expect(b.next('s', 'c', true)).toBe('b:1');
    expect(b.next('s', 'c')).toBe('b:1');
    b.update('s', ['a:1'], 100);
    expect(b.next('s', 'c')).toBe('a:1');
  });

  it('forgets pins when affinity is turned off', () => {
    const b = new RoundRobinBalancer(() => 0);
    b.update('s', ['a:1', 'b:1'], 100);
    b.next('s', 'c');
    b.update('s', ['a:1', 'b:1'], 0);
    expect([b.next('s', 'c'), b.next('s', 'c')]).toEqual(['b:1', 'a:1']);
  });
});
