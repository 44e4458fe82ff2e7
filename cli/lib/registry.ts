// Talking to a registry: submit an envelope, fetch a run. Answers are parsed with the API's schemas.
import type * as z from "zod";
import { BatchResponse, ErrorBody, RunDetail, SubmitResponse } from "../../schema/api.ts";
import type { Envelope } from "../../schema/signing.ts";
import { CliError } from "../errors.ts";

const TIMEOUT_MS = 30_000;

export function normalizeRegistry(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--registry must be an http(s) URL, got ${JSON.stringify(url)}`, 2);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new CliError(`--registry must be an http(s) URL, got ${JSON.stringify(url)}`, 2);
  }
  return parsed.href.replace(/\/$/, "");
}

async function request(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new CliError(`cannot reach the registry at ${new URL(url).origin} (${cause})`);
  }
}

async function readAnswer<T extends z.ZodType>(res: Response, schema: T, what: string): Promise<z.infer<T>> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`the registry answered ${res.status} with something that is not JSON (${what})`);
  }
  if (!res.ok) {
    const error = ErrorBody.safeParse(json);
    if (!error.success) throw new CliError(`the registry answered ${res.status} (${what})`);
    const { code, message, details } = error.data.error;
    const lines = (details ?? []).map((d) => `  ${d.path}: ${d.message}`);
    throw new CliError([`the registry refused it (${res.status} ${code}): ${message}`, ...lines].join("\n"));
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new CliError(`the registry's answer does not match this CLI's version of the API (${what})`);
  return parsed.data;
}

/** Posts a signed envelope to a route of the registry and parses the answer with `schema`. */
export async function postSigned<T extends z.ZodType>(
  registry: string,
  path: string,
  envelope: Envelope,
  schema: T,
): Promise<z.infer<T>> {
  const res = await request(`${registry}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(envelope),
  });
  return readAnswer(res, schema, path);
}

export function submitEnvelope(registry: string, envelope: Envelope): Promise<SubmitResponse> {
  return postSigned(registry, "/v1/runs", envelope, SubmitResponse);
}

/**
 * Posts up to MAX_BATCH_RUNS envelopes in one request; the answer has one item per envelope, each
 * stored, stored before, or refused with its own error.
 */
export async function submitBatch(registry: string, envelopes: Envelope[]): Promise<BatchResponse> {
  const res = await request(`${registry}/v1/runs/batch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ envelopes }),
  });
  return readAnswer(res, BatchResponse, "/v1/runs/batch");
}

/** Accepts a run page URL (…/runs/<id>/) or an API URL (…/v1/runs/<id>). */
export async function fetchRunDetail(runUrl: string): Promise<RunDetail> {
  const url = new URL(runUrl);
  const id = url.pathname.match(/\/runs\/([0-9a-f]{24})\/?$/)?.[1];
  if (!id) throw new CliError(`${runUrl} is not a run URL (…/runs/<id>/)`, 2);
  const res = await request(`${url.origin}/v1/runs/${id}`);
  return readAnswer(res, RunDetail, "run");
}
