import { defineConfig } from "vitest/config";

// Unit tests run in parallel; tests against real servers (smoke, providers, e2e) share
// booted test hosts and run one file at a time (see scripts/test).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
