// Writing one audit row: every moderation action and every signed key record adds one, in the same
// D1 batch as the change it records.
import type { SQL } from "drizzle-orm";
import { auditLog } from "../../schema/db.ts";
import type { Database } from "./database.ts";

export interface AuditValues {
  at: string;
  /** "admin", or the device id that signed the action. */
  actor: string;
  action: string;
  /** A literal, or SQL computed inside the batch (a new row's id). */
  target: string | SQL;
  reason: string | null;
  details?: Record<string, unknown> | undefined;
}

export function auditInsert(db: Database, values: AuditValues) {
  return db.insert(auditLog).values({ ...values, details: values.details ? JSON.stringify(values.details) : null });
}
