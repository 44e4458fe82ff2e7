// The public audit log of every moderation and key action, newest first.
import { Hono } from "hono";
import * as z from "zod";
import { type AuditPage, AuditQuery } from "../../schema/moderation.ts";
import { decodeCursor, encodeCursor } from "../cursor.ts";
import { listAudit } from "../db/moderation.ts";
import type { AppEnv } from "../env.ts";
import { validQuery } from "../middleware/validate.ts";

/** Audit ids only grow, so the last id seen is the whole position. */
const AuditCursorSchema = z.strictObject({ id: z.int().min(1) });

export const auditRoute = new Hono<AppEnv>().get("/", validQuery(AuditQuery), async (c) => {
  const { target, limit, cursor } = c.req.valid("query");
  const page = await listAudit(c.var.db, { target, limit, after: decodeCursor(cursor, AuditCursorSchema) });
  const body: AuditPage = { items: page.rows, nextCursor: page.next ? encodeCursor(page.next) : null };
  return c.json(body);
});
