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

/**
 * Cuts items that carry an envelope into batches that fit the batch route's limits on count and
 * body size, one item at a time, so that a caller can send each batch as soon as it is full.
 */
export class BatchCutter<T> {
  private readonly envelopeOf: (item: T) => Envelope;
  private readonly maxRuns: number;
  private current: T[] = [];
  private bytes = 0;
  constructor(envelopeOf: (item: T) => Envelope, maxRuns = MAX_BATCH_RUNS) {
    this.envelopeOf = envelopeOf;
    this.maxRuns = maxRuns;
  }

  /** Adds `item`; returns the batch it closed when the item did not fit into that batch any more. */
  add(item: T): T[] | undefined {
    const size = envelopeBytes(this.envelopeOf(item));
    const full = this.current.length >= this.maxRuns || this.bytes + size > BATCH_BODY_ROOM;
    // An envelope too big for any batch still goes, alone: the registry answers for it.
    const closed = this.current.length && full ? this.finish() : undefined;
    this.current.push(item);
    this.bytes += size;
    return closed;
  }

  /** Closes the batch being filled and returns it (undefined when it is empty). */
  finish(): T[] | undefined {
    const closed = this.current.length ? this.current : undefined;
    this.current = [];
    this.bytes = 0;
    return closed;
  }
}

/** Envelopes in order, cut into batches that fit the batch route's limits on count and body size. */
export function splitBatches(envelopes: Envelope[], maxRuns = MAX_BATCH_RUNS): Envelope[][] {
  const cutter = new BatchCutter<Envelope>((envelope) => envelope, maxRuns);
  const batches: Envelope[][] = [];
  for (const envelope of envelopes) {
    const closed = cutter.add(envelope);
    if (closed) batches.push(closed);
  }
  const last = cutter.finish();
  if (last) batches.push(last);
  return batches;
}

/**
 * Posts up to MAX_BATCH_RUNS envelopes in one request; the answer has one item per envelope, each
 * stored, stored before, or refused with its own error.
 */
async function submitBatch(registry: string, envelopes: Envelope[]): Promise<BatchResponse> {
  const res = await request(`${registry}/v1/runs/batch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ envelopes }),
  });
  return readAnswer(res, BatchResponse, "/v1/runs/batch");
}

/**
 * What became of one envelope sent to the registry. `final` is true only when sending the same
 * bytes again cannot succeed; otherwise the envelope may or may not be stored and is to be sent again.
 */
export type DeliveryOutcome =
  | { kind: "stored"; url: string; created: boolean }
  | { kind: "refused"; final: boolean; error: string };

async function deliverOne(registry: string, envelope: Envelope): Promise<DeliveryOutcome> {
  try {
    const answer = await submitEnvelope(registry, envelope);
    return { kind: "stored", url: answer.url, created: answer.created };
  } catch (error) {
    return { kind: "refused", final: finalRefusal(error), error: errorMessage(error) };
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Delivers one batch of envelopes (within the batch route's limits, see splitBatches) and returns one
 * outcome per envelope, at its index. A single envelope goes to the single-run route; a registry
 * without the batch route (404/405) gets one request per envelope.
 */
export async function deliverBatch(registry: string, envelopes: Envelope[]): Promise<DeliveryOutcome[]> {
  if (envelopes.length === 1) return [await deliverOne(registry, envelopes[0] as Envelope)];
  let answer: BatchResponse;
  try {
    answer = await submitBatch(registry, envelopes);
  } catch (error) {
    if (error instanceof RegistryRefusal && (error.status === 404 || error.status === 405)) {
      const outcomes: DeliveryOutcome[] = [];
      for (const envelope of envelopes) outcomes.push(await deliverOne(registry, envelope));
      return outcomes;
    }
    // The request as a whole failed or was refused: no envelope of it was stored, and each one
    // may be accepted on its own or in another batch, so none is refused for good.
    return envelopes.map(() => ({ kind: "refused", final: false, error: errorMessage(error) }));
  }
  // An envelope the answer does not mention may or may not be stored: it is to be sent again.
  const outcomes: DeliveryOutcome[] = envelopes.map(() => ({
    kind: "refused",
    final: false,
    error: "the registry's answer to the batch did not mention this bundle",
  }));
  for (const item of answer.items) {
    if (item.index >= envelopes.length) continue;
    outcomes[item.index] =
      "error" in item
        ? {
            kind: "refused",
            final: !retryable(item.status),
            error: `the registry refused it (${item.status} ${item.error.code}): ${item.error.message}`,
          }
        : { kind: "stored", url: item.url, created: item.created };
  }
  return outcomes;
}

/** Accepts a run page URL (…/runs/<id>/) or an API URL (…/v1/runs/<id>). */
export async function fetchRunDetail(runUrl: string): Promise<RunDetail> {
  const url = new URL(runUrl);
  const id = url.pathname.match(/\/runs\/([0-9a-f]{24})\/?$/)?.[1];
  if (!id) throw new CliError(`${runUrl} is not a run URL (…/runs/<id>/)`, 2);
  const res = await request(`${url.origin}/v1/runs/${id}`);
  return readAnswer(res, RunDetail, "run");
}
