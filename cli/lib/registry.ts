// Talking to a registry: submit an envelope, fetch a run. Answers are parsed with the API's schemas.
import type * as z from "zod";
import {
  BatchResponse,
  ErrorBody,
  MAX_BATCH_BODY_BYTES,
  MAX_BATCH_RUNS,
  RunDetail,
  SubmitResponse,
} from "../../schema/api.ts";
import type { Envelope } from "../../schema/signing.ts";
import { CliError } from "../errors.ts";

const TIMEOUT_MS = 30_000;

/** The registry answered with its error shape: it read the request and said no, for `code`. */
export class RegistryRefusal extends CliError {
  readonly status: number;
  readonly code: string;
  constructor(message: string, status: number, code: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Whether the same bytes may succeed later: a rate limit, a timeout or a server error pass; any
 * other refusal (bad signature, invalid bundle, revoked key…) will be the same answer every time.
 */
export function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** True for an error after which sending the same bytes again cannot succeed. */
export function finalRefusal(error: unknown): error is RegistryRefusal {
  return error instanceof RegistryRefusal && !retryable(error.status);
}

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
    throw new RegistryRefusal(
      [`the registry refused it (${res.status} ${code}): ${message}`, ...lines].join("\n"),
      res.status,
      code,
    );
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

/** The bytes an envelope adds to a batch body (its JSON and a comma). */
export function envelopeBytes(envelope: Envelope): number {
  return Buffer.byteLength(JSON.stringify(envelope)) + 1;
}

/** Room in a batch body for the `{"envelopes":[…]}` around the envelopes. */
const BATCH_BODY_ROOM = MAX_BATCH_BODY_BYTES - 64;

/** Whether a batch of `count` envelopes and `bytes` bytes can take one more of `more` bytes. */
export function batchHasRoom(count: number, bytes: number, more: number, maxRuns = MAX_BATCH_RUNS): boolean {
  return count < maxRuns && bytes + more <= BATCH_BODY_ROOM;
}

/** Envelopes in order, cut into batches that fit the batch route's limits on count and body size. */
export function splitBatches(envelopes: Envelope[], maxRuns = MAX_BATCH_RUNS): Envelope[][] {
  const batches: Envelope[][] = [];
  let current: Envelope[] = [];
  let bytes = 0;
  for (const envelope of envelopes) {
    const size = envelopeBytes(envelope);
    if (current.length && !batchHasRoom(current.length, bytes, size, maxRuns)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(envelope);
    bytes += size;
  }
  if (current.length) batches.push(current);
  return batches;
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
