import { defineConfig } from "drizzle-kit";

// Migrations are generated from schema/db.ts and applied only by wrangler (never drizzle-kit push).
export default defineConfig({
  dialect: "sqlite",
  schema: "./schema/db.ts",
  out: "./migrations",
});
