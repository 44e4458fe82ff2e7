import { describe, expect, it } from "vitest";
import { ErrorBody, MAX_BODY_BYTES } from "../../schema/api.ts";
import { makeBundle } from "../support/bundles.ts";
import { call, postJson, rowCounts, signed } from "./helpers.ts";

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = ErrorBody.parse(await res.json());
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toMatch(/\S/);
  return body.error;
}

const EMPTY = { runs: 0, devices: 0, hardware: 0, models: 0 };

describe("POST /v1/runs refuses bad input and writes nothing", () => {
  it("415 for a body that is not JSON", async () => {
    const envelope = await signed(makeBundle());
    await expectError(await postJson(envelope, { contentType: "text/plain" }), 415, "unsupported_media_type");
    expect(await rowCounts()).toEqual(EMPTY);
  });

  it("413 for a body over the size cap, before parsing it", async () => {
    const envelope = await signed(makeBundle({ notes: "x".repeat(MAX_BODY_BYTES) }));
    await expectError(await postJson(envelope), 413, "payload_too_large");
    expect(await rowCounts()).toEqual(EMPTY);
  });

  it("413 for an oversized streamed body without a content-length", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 6) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await call("/v1/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      // @ts-expect-error -- workerd needs duplex for a streamed request body; the DOM type lacks it
      duplex: "half",
    });
    await expectError(res, 413, "payload_too_large");
  });

  it("400 for malformed JSON", async () => {
    const error = await expectError(await postJson('{"schema": "edgebench.envelope/v1",'), 400, "malformed_json");
    expect(error.message).toMatch(/not valid JSON/);
    expect(await rowCounts()).toEqual(EMPTY);
  });

  it("400 for bytes that are not UTF-8", async () => {
    const res = await call("/v1/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    });
    await expectError(res, 400, "malformed_json");
  });

  it("400 naming each failing path of a body that is not an envelope", async () => {
    const bundle = makeBundle();
    const error = await expectError(
      await postJson({ schema: "edgebench.envelope/v1", payload: bundle, extra: 1 }),
      400,
      "invalid_envelope",
    );
    expect(error.details?.map((d) => d.path).sort()).toEqual(["extra", "publicKey", "signature"]);
    expect(await rowCounts()).toEqual(EMPTY);
  });

  it("422 naming the path of a signed payload that is not a valid bundle", async () => {
    const bundle: Record<string, unknown> = { ...makeBundle() };
    delete bundle.device;
    const error = await expectError(await postJson(await signed(bundle)), 422, "invalid_bundle");
    expect(error.details).toContainEqual({ path: "payload.device", message: expect.any(String) });
    expect(await rowCounts()).toEqual(EMPTY);
  });

  it("422 naming a wrong unit and an unknown field", async () => {
    const bundle = makeBundle();
    const payload = JSON.parse(JSON.stringify(bundle));
    payload.measurements[2].unit = "ms";
    payload.model.colour = "blue";
    const error = await expectError(await postJson(await signed(payload)), 422, "invalid_bundle");
    expect(error.details?.map((d) => d.path).sort()).toEqual(["payload.measurements[2].unit", "payload.model.colour"]);
    expect(await rowCounts()).toEqual(EMPTY);
  });
});

describe("read errors", () => {
  it("404 for an unknown run, in the same error shape", async () => {
    await expectError(await call("/v1/runs/0123456789abcdef01234567"), 404, "not_found");
    await expectError(await call("/v1/runs/..%2F..%2Fetc"), 404, "not_found");
  });

  it("404 JSON for an unknown API path", async () => {
    await expectError(await call("/v1/nothing-here"), 404, "not_found");
  });

  it("400 naming the bad query parameter", async () => {
    const error = await expectError(
      await call("/v1/leaderboard?limit=1000&hardware=Not%20A%20Slug"),
      400,
      "invalid_query",
    );
    expect(error.details?.map((d) => d.path).sort()).toEqual(["hardware", "limit"]);
  });

  it("400 for a cursor the API did not hand out", async () => {
    const error = await expectError(await call("/v1/leaderboard?cursor=bm9wZQ"), 400, "invalid_query");
    expect(error.details?.[0]?.path).toBe("cursor");
  });
});
