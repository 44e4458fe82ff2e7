import { mkdirSync } from "node:fs";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// wrangler.toml serves site/dist as assets; on a fresh clone it is not built yet, and the Worker
// tests do not need it to be.
mkdirSync("site/dist", { recursive: true });

// The Worker under test, inside workerd against a real local D1 with the real migrations. Rate
// limits are raised for the ordinary tests (a fuzz test sends thousands of requests) and kept low,
// as configured in production, for the test that checks them.
const workerProject = (name: string, include: string[], limits: { ip: number; key: number }) => ({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      // The API alone: wrangler.toml's main is the Worker `astro build` makes around it (site/src/fetch.ts).
      main: "./workers/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("migrations"),
          NODE_SIGNED: JSON.stringify(inject("nodeSigned")),
          ADMIN_TOKEN: "test-admin-token-0123456789",
        },
        ratelimits: {
          RATE_LIMIT_IP: { namespace_id: "1001", simple: { limit: limits.ip, period: 60 as const } },
          RATE_LIMIT_KEY: { namespace_id: "1002", simple: { limit: limits.key, period: 60 as const } },
        },
      },
    })),
  ],
  test: {
    name,
    include,
    setupFiles: ["test/worker/apply-migrations.ts"],
    globalSetup: ["test/support/global-setup.ts"],
  },
});

export default defineConfig({
  test: {
    projects: [
      workerProject("worker", ["test/worker/**/*.test.ts"], { ip: 1_000_000, key: 1_000_000 }),
      workerProject("worker-limits", ["test/worker-limits/**/*.test.ts"], { ip: 10, key: 5 }),
      // Benchmarks inside workerd, run by `npm run bench` only (scripts/bench-api.ts), never by `npm test`.
      ...(process.env.EDGEBENCH_BENCH === "1"
        ? [workerProject("worker-bench", ["test/bench/**/*.test.ts"], { ip: 1_000_000, key: 1_000_000 })]
        : []),
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
      {
        // Debian's Chromium (playwright-core) against the site served by one local registry, started
        // once for the whole project by its global setup; files one after another, one browser.
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/support/browser-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
