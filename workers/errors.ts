// One error shape for every non-2xx answer: { error: { code, message, details?, requestId } }.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_STATUS, type ErrorBody, type ErrorCode, type IssueDetail, type ItemError } from "../schema/api.ts";
import type { AppEnv } from "./env.ts";

interface ApiErrorCause {
  code: ErrorCode;
  details?: IssueDetail[];
}

export function apiError(code: ErrorCode, message: string, details?: IssueDetail[]): HTTPException {
  const cause: ApiErrorCause = details ? { code, details } : { code };
  return new HTTPException(ERROR_STATUS[code] as ContentfulStatusCode, { message, cause });
}

/** An API error as one item of a batch answers it: its status and its code, message and details. */
export function itemError(err: HTTPException): { status: number; error: ItemError } {
  const cause: ApiErrorCause = isCause(err.cause) ? err.cause : { code: CODE_FOR_STATUS[err.status] ?? "internal" };
  const error: ItemError = { code: cause.code, message: err.message || cause.code };
  if (cause.details) error.details = cause.details;
  return { status: err.status, error };
}

function body(c: Context<AppEnv>, code: ErrorCode, message: string, details?: IssueDetail[]): ErrorBody {
  const requestId = c.get("requestId") ?? "unknown";
  return { error: details ? { code, message, details, requestId } : { code, message, requestId } };
}

function isCause(value: unknown): value is ApiErrorCause {
  return typeof value === "object" && value !== null && "code" in value && (value.code as string) in ERROR_STATUS;
}

/** Matches the rate limiters' period in wrangler.toml. */
const RETRY_AFTER_SECONDS = 60;

const CODE_FOR_STATUS: Partial<Record<number, ErrorCode>> = {
  400: "invalid_query",
  401: "bad_signature",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

export function handleError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    if (isCause(err.cause) && err.cause.code === "rate_limited") {
      c.header("Retry-After", String(RETRY_AFTER_SECONDS));
    }
    if (isCause(err.cause)) return c.json(body(c, err.cause.code, err.message, err.cause.details), status);
    const code = CODE_FOR_STATUS[status] ?? "internal";
    return c.json(body(c, code, err.message || code), status);
  }
  // Never a stack trace or a library's raw error to the client; the log keeps it.
  console.error(`request ${c.get("requestId")} failed`, err);
  return c.json(body(c, "internal", "internal error"), 500);
}
