import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach } from "vitest";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// Storage is shared by the tests of a file: start each test from empty tables (children first).
beforeEach(async () => {
  const tables = ["runs", "cells", "annotations", "audit_log", "aliases", "devices", "hardware", "models"];
  await env.DB.batch(tables.map((t) => env.DB.prepare(`delete from ${t}`)));
});
