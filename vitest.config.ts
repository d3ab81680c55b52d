import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['lib/**/*.test.ts', 'cmd/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests each start their own etcd; keep parallelism modest on 2-core machines.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
