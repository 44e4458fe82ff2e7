// Every signed route goes through here: media type, size cap, JSON, envelope shape, signature.
// Cheap refusals come first, and nothing is parsed beyond the size cap.

import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { MAX_BODY_BYTES } from "../../schema/api.ts";
import { issueDetails } from "../../schema/issues.ts";
import { canonicalEnvelopeJson, Envelope, verifyCanonical } from "../../schema/signing.ts";
import type { AppEnv } from "../env.ts";
import { apiError } from "../errors.ts";

export const jsonOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!/^application\/json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    throw apiError("unsupported_media_type", "send the signed envelope as application/json");
  }
  await next();
});

/** Refuses (413) a body above `maxSize` bytes before reading it whole. */
export const sizeCap = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw apiError("payload_too_large", `the body exceeds ${maxSize} bytes`);
    },
  });

/** The body as JSON, refused (400 malformed_json) when it is not UTF-8 or not JSON. */
export async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(await c.req.arrayBuffer());
  } catch (error) {
    if (error instanceof TypeError) throw apiError("malformed_json", "the body is not valid UTF-8");
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw apiError("malformed_json", `the body is not valid JSON: ${(error as Error).message}`);
  }
}

/** A parsed JSON value checked as a signed envelope and verified; `at` prefixes the paths of issues. */
export async function verifiedEnvelope(
  json: unknown,
  at?: string,
): Promise<{ envelope: Envelope; deviceId: string; canonical: string }> {
  const shape = Envelope.safeParse(json);
  if (!shape.success) {
    const details = issueDetails(shape.error, at);
    const own = issueDetails(shape.error);
    // A missing or malformed signature or key is a signature failure; anything else is a bad envelope.
    if (own.every((d) => d.path === "signature" || d.path === "publicKey")) {
      throw apiError("bad_signature", "the envelope's signature or public key is missing or malformed", details);
    }
    throw apiError("invalid_envelope", "the body is not a signed edgebench envelope", details);
  }
  // Verify and keep the object exactly as received, not zod's copy of it.
  const envelope = json as Envelope;
  const verdict = await verifyCanonical(envelope);
  if (!verdict.ok) throw apiError("bad_signature", verdict.reason);
  return { envelope, deviceId: verdict.deviceId, canonical: canonicalEnvelopeJson(envelope, verdict.canonicalPayload) };
}

const verified = createMiddleware<AppEnv>(async (c, next) => {
  const { envelope, deviceId, canonical } = await verifiedEnvelope(await jsonBody(c));
  c.set("envelope", envelope);
  c.set("deviceId", deviceId);
  c.set("canonical", canonical);
  await next();
});

export const signedEnvelope = [jsonOnly, sizeCap(MAX_BODY_BYTES), verified] as const;
