// The outbox's delivery in batches, against a registry that answers as the API does: each bundle is
// settled on its own answer (delivered, refused for good, or kept for later), a registry without the
// batch route gets one request per bundle, and batches respect the route's count and size limits.
// (Delivery against the real local registry, with kills and two processes, is in faults.test.ts.)
import { mkdtemp } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { enqueue, flushOutbox, listOutbox } from "../../cli/lib/outbox.ts";
import { envelopeBytes, splitBatches } from "../../cli/lib/registry.ts";
import { MAX_BATCH_BODY_BYTES, MAX_BATCH_RUNS } from "../../schema/api.ts";
import { type Envelope, generateKeyPair, signPayload } from "../../schema/signing.ts";
import { makeBundle } from "../support/bundles.ts";

type Handler = (path: string, body: { envelopes?: unknown[] }) => { status: number; json: unknown };

let server: Server | undefined;
const requests: Array<{ path: string; envelopes: number }> = [];

async function registry(handler: Handler): Promise<string> {
  requests.length = 0;
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on("end", () => {
      const body = JSON.parse(text) as { envelopes?: unknown[] };
      requests.push({ path: req.url ?? "", envelopes: body.envelopes?.length ?? 1 });
      const { status, json } = handler(req.url ?? "", body);
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    });
  });
  const listening = server;
  await new Promise<void>((r) => listening.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(listening.address() as { port: number }).port}`;
}

afterEach(async () => {
  const closing = server;
  server = undefined;
  if (closing) await new Promise((r) => closing.close(r));
});

async function envelopes(n: number, notes = ""): Promise<Envelope[]> {
  const key = await generateKeyPair();
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      signPayload({ ...makeBundle({ decodeTps: 1 + i }), ...(notes ? { notes } : {}) }, key.privateKey),
    ),
  );
}

const stored = (i: number) => ({
  status: 201,
  id: i.toString(16).padStart(24, "0"),
  url: `http://r.test/runs/${i}/`,
  deviceId: "d".repeat(24),
  created: true,
});

describe("outbox flush in batches", () => {
  it("settles each bundle on its own answer: delivered, refused for good, or kept for a retry", async () => {
    const root = await mkdtemp(join(tmpdir(), "edgebench-outbox-"));
    const url = await registry((path) => ({
      status: path === "/v1/runs/batch" ? 200 : 404,
      json: {
        items: [
          { index: 0, ...stored(0) },
          { index: 1, status: 422, error: { code: "created_out_of_window", message: "too old" } },
          { index: 2, status: 429, error: { code: "rate_limited", message: "too many requests from this device key" } },
        ],
        created: 1,
        refused: 2,
      },
    }));
    const ids: string[] = [];
    for (const e of await envelopes(3)) ids.push(await enqueue(url, e, root));
    // Files are sent in the order of their names (the run ids); the answer follows that order.
    const [first, second, third] = [...ids].sort();
    const report = await flushOutbox({ root });
    expect(requests).toEqual([{ path: "/v1/runs/batch", envelopes: 3 }]);
    expect(report.delivered.map((d) => d.id)).toEqual([first]);
    expect(report.rejected).toEqual([
      { id: second, error: "the registry refused it (422 created_out_of_window): too old" },
    ]);
    expect(report.failed.map((f) => f.id)).toEqual([third]);
    expect((await listOutbox(root)).map((i) => [i.id, i.state, i.attempts])).toEqual([
      [third, "pending", 1],
      [second, "rejected", 1],
    ]);
  });

  it("keeps every bundle of a batch the registry could not take as a whole, and falls back to one request each without the batch route", async () => {
    const root = await mkdtemp(join(tmpdir(), "edgebench-outbox-"));
    let down = true;
    let next = 0;
    const url = await registry((path) => {
      if (down) return { status: 503, json: { error: { code: "internal", message: "busy", requestId: "r" } } };
      if (path === "/v1/runs/batch") {
        return { status: 404, json: { error: { code: "not_found", message: "no route", requestId: "r" } } };
      }
      const { status: _status, ...answer } = stored(next++);
      return { status: 201, json: answer };
    });
    for (const e of await envelopes(4)) await enqueue(url, e, root);
    const failed = await flushOutbox({ root });
    expect(failed.failed).toHaveLength(4);
    expect((await listOutbox(root)).every((i) => i.state === "pending" && i.attempts === 1)).toBe(true);

    down = false;
    requests.length = 0;
    const report = await flushOutbox({ root });
    expect(requests.map((r) => r.path)).toEqual(["/v1/runs/batch", "/v1/runs", "/v1/runs", "/v1/runs", "/v1/runs"]);
    expect(report.delivered).toHaveLength(4);
    expect(await listOutbox(root)).toEqual([]);
  });

  it("keeps for a retry a bundle the batch answer does not mention", async () => {
    const root = await mkdtemp(join(tmpdir(), "edgebench-outbox-"));
    const url = await registry(() => ({
      status: 200,
      json: { items: [{ index: 0, ...stored(0) }], created: 1, refused: 0 },
    }));
    const ids: string[] = [];
    for (const e of await envelopes(2)) ids.push(await enqueue(url, e, root));
    const [first, second] = [...ids].sort();
    const report = await flushOutbox({ root });
    expect(report.delivered.map((d) => d.id)).toEqual([first]);
    expect(report.rejected).toEqual([]);
    expect(report.failed).toEqual([
      { id: second, error: "the registry's answer to the batch did not mention this bundle" },
    ]);
    expect((await listOutbox(root)).map((i) => [i.id, i.state, i.attempts])).toEqual([[second, "pending", 1]]);
  });

  it("sends at most the batch size a request", async () => {
    const root = await mkdtemp(join(tmpdir(), "edgebench-outbox-"));
    const url = await registry((path, body) => {
      if (path === "/v1/runs") {
        const { status: _status, ...answer } = stored(99);
        return { status: 201, json: answer };
      }
      const items = (body.envelopes ?? []).map((_, index) => ({ index, ...stored(index) }));
      return { status: 200, json: { items, created: items.length, refused: 0 } };
    });
    for (const e of await envelopes(7)) await enqueue(url, e, root);
    const report = await flushOutbox({ root, batchSize: 3 });
    // The last bundle alone goes to the single-run route.
    expect(requests).toEqual([
      { path: "/v1/runs/batch", envelopes: 3 },
      { path: "/v1/runs/batch", envelopes: 3 },
      { path: "/v1/runs", envelopes: 1 },
    ]);
    expect(report.delivered).toHaveLength(7);
  });
});

describe("splitBatches", () => {
  it("cuts by count, and by body size when the envelopes are big", async () => {
    const small = await envelopes(MAX_BATCH_RUNS + 5);
    expect(splitBatches(small).map((b) => b.length)).toEqual([MAX_BATCH_RUNS, 5]);
    // Bundles with 15,000-character notes, padded after signing to ~300 KB each: three fit a 1 MiB body.
    const big = (await envelopes(7, "n".repeat(15_000))).map((e) => ({ ...e, padding: "p".repeat(300_000) }));
    const batches = splitBatches(big as Envelope[]);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
    for (const batch of batches) {
      const body = JSON.stringify({ envelopes: batch });
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_BATCH_BODY_BYTES);
      expect(batch.reduce((sum, e) => sum + envelopeBytes(e), 0)).toBeGreaterThan(0);
    }
    expect(batches.flat()).toEqual(big);
  });
});
