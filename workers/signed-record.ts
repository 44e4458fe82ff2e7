// What every signed record other than a run shares: its payload checked with its zod schema, its
// creation time checked against the registry's clock, and its id (the hash of its canonical envelope,
// as a run's), by which a resend of the same bytes is recognized.
import type * as z from "zod";
import { issueDetails } from "../schema/issues.ts";
import { type Envelope, runIdOf } from "../schema/signing.ts";
import { apiError } from "./errors.ts";

/** A signed creation time may be at most this far ahead of the server's clock (clock skew). */
export const MAX_FUTURE_SKEW_MS = 10 * 60_000;

/**
 * A key record is sent the moment it is signed (the CLI never queues one in its outbox), so a day
 * covers retries and clock trouble, and a signed record that was never sent (a copy left in a
 * backup) stops being usable soon, unlike a run bundle, which may wait in an outbox for weeks.
 */
export const RECORD_MAX_AGE_MS = 24 * 3_600_000;

export interface Window {
  /** How far ahead of the registry's clock a creation time may be (clock skew). */
  futureMs: number;
  /** How old it may be. */
  maxAgeMs: number;
  /** What the signer should do about a record too old to take. */
  remedy: string;
}

export const RECORD_WINDOW: Window = {
  futureMs: MAX_FUTURE_SKEW_MS,
  maxAgeMs: RECORD_MAX_AGE_MS,
  remedy: "sign the record again",
};

function describeSpan(ms: number): string {
  const days = ms / (24 * 3_600_000);
  if (Number.isInteger(days)) return days === 1 ? "1 day" : `${days} days`;
  const hours = ms / 3_600_000;
  if (Number.isInteger(hours)) return hours === 1 ? "1 hour" : `${hours} hours`;
  return `${Math.round(ms / 60_000)} minutes`;
}

/** Refuses (422 created_out_of_window) a creation time outside the window; `path` names the field. */
export function checkSignedAt(createdAt: string, path: string, now: Date, window: Window = RECORD_WINDOW): void {
  const created = Date.parse(createdAt);
  if (created > now.getTime() + window.futureMs) {
    throw apiError("created_out_of_window", `${path} ${createdAt} is in the future; check this device's clock`, [
      { path, message: `more than ${describeSpan(window.futureMs)} ahead of the registry's clock` },
    ]);
  }
  if (created < now.getTime() - window.maxAgeMs) {
    throw apiError(
      "created_out_of_window",
      `${path} ${createdAt} is more than ${describeSpan(window.maxAgeMs)} old; ${window.remedy}`,
      [{ path, message: `older than ${describeSpan(window.maxAgeMs)}` }],
    );
  }
}

/** The envelope's payload as `schema` says it must be, or 400 invalid_request naming each failing path. */
export function recordPayload<T extends z.ZodType>(envelope: Envelope, schema: T, what: string): z.infer<T> {
  const parsed = schema.safeParse(envelope.payload);
  if (!parsed.success) {
    throw apiError("invalid_request", `the payload is not a valid ${what}`, issueDetails(parsed.error, "payload"));
  }
  return parsed.data;
}

/** A signed record as the routes handle it: who signed it, what it says, its id, and when it arrived. */
export interface SignedRecord<T> {
  envelope: Envelope;
  payload: T;
  /** The signing key's device id. */
  signer: string;
  /** The hash of the canonical envelope: equal ids are the same bytes. */
  id: string;
  now: Date;
}

/** Parses and checks the window of a verified envelope's record. */
export async function signedRecord<T extends z.ZodType<{ createdAt: string }>>(
  envelope: Envelope,
  signer: string,
  schema: T,
  what: string,
  now = new Date(),
): Promise<SignedRecord<z.infer<T>>> {
  const payload = recordPayload(envelope, schema, what);
  checkSignedAt(payload.createdAt, "payload.createdAt", now);
  return { envelope, payload, signer, id: await runIdOf(envelope), now };
}
