import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-kafka.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests spawn git and talk to one broker; two cores do best with two files at a time.
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
