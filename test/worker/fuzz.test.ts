// Property-based fuzzing of POST /v1/runs inside workerd: thousands of malformed and hostile
// bodies, signed and unsigned. Whatever comes in, the answer is never a 5xx, and a refused request
// writes nothing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorBody } from "../../schema/api.ts";
import { canonicalJson } from "../../schema/signing.ts";
import { makeBundle } from "../support/bundles.ts";
import { call, rowCounts, signed } from "./helpers.ts";

const REFUSALS = [400, 401, 403, 409, 413, 415, 422, 429];

async function post(body: BodyInit, contentType = "application/json") {
  return call("/v1/runs", { method: "POST", headers: { "content-type": contentType }, body });
}

/** Posts and checks the invariants: no 5xx, one error shape, nothing written when refused. */
async function expectSafe(body: BodyInit, contentType?: string): Promise<number> {
  const before = await rowCounts();
  const res = await post(body, contentType);
  expect(res.status, await res.clone().text()).toBeLessThan(500);
  if (res.status >= 400) {
    expect(REFUSALS).toContain(res.status);
    expect(ErrorBody.safeParse(await res.json()).success).toBe(true);
    expect(await rowCounts()).toEqual(before);
  }
  return res.status;
}

/** Every path to a value in a JSON document. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((v, i) => pathsOf(v, [...prefix, i]))];
  if (value && typeof value === "object") {
    return [prefix, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
  }
  return [prefix];
}

function setAt(root: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1);
  if (last !== undefined) node[last] = value;
}

const hostileString = fc.oneof(
  fc.string(),
  fc.constantFrom(
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "../../../etc/passwd",
    "\u0000\u0001",
    "\ud800",
    "'; drop table runs; --",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell probe string, on purpose
    "${jndi:ldap://x}",
    "A".repeat(5000),
  ),
);
const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  hostileString,
  fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 53 + 1, 0.1, [], {}, null, true),
  fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 50 }),
);

function samePayload(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
}

function canSign(payload: unknown): boolean {
  try {
    canonicalJson(payload);
    return true;
  } catch {
    return false;
  }
}

describe("fuzzing POST /v1/runs", { timeout: 120_000 }, () => {
  it("never answers 5xx to arbitrary bytes, text or JSON", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }).map((b) => b as Uint8Array<ArrayBuffer>),
          fc.string({ maxLength: 2000 }),
          fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v) ?? "null"),
        ),
        fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", ""),
        async (body, contentType) => {
          const status = await expectSafe(body, contentType);
          expect(status).not.toBe(201);
        },
      ),
      { numRuns: 800 },
    );
    expect((await rowCounts()).runs).toBe(0);
  });

  it("never answers 5xx to envelope-shaped bodies with hostile fields", async () => {
    const valid = await signed(makeBundle());
    let stored = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...pathsOf(valid).filter((p) => p.length > 0)),
        hostileValue,
        async (path, value) => {
          const copy = structuredClone(valid) as unknown as Record<string, unknown>;
          setAt(copy, path, value);
          const status = await expectSafe(JSON.stringify(copy));
          // The signature covers the payload: a changed payload can never be stored under it. (A
          // "mutation" that writes the value already there leaves the original, valid envelope.)
          const unchanged = samePayload(copy, valid);
          if (!unchanged) expect(status).not.toBe(201);
          if (status === 201) stored++;
        },
      ),
      { numRuns: 800 },
    );
    expect((await rowCounts()).runs).toBe(stored);
    expect(stored).toBeLessThanOrEqual(1);
  });

  it("validates correctly signed hostile bundles: stored only when valid, never a 5xx", async () => {
    const base = makeBundle();
    let stored = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...pathsOf(base).filter((p) => p.length > 0)),
        hostileValue,
        async (path, value) => {
          const payload = structuredClone(base) as unknown as Record<string, unknown>;
          setAt(payload, path, value);
          // A lone surrogate has no canonical form: no client can sign it (the unsigned case covers it).
          fc.pre(canSign(payload));
          const status = await expectSafe(JSON.stringify(await signed(payload)));
          if (status === 201) stored++;
        },
      ),
      { numRuns: 800 },
    );
    // Some mutations keep a valid bundle (a free-text note, a number within range): those are stored.
    expect((await rowCounts()).runs).toBe(stored);
  });

  it("survives deep nesting and big arrays within the size cap", async () => {
    const deep = `${"[".repeat(20000)}${"]".repeat(20000)}`;
    expect(await expectSafe(deep)).toBe(400);
    const nested = makeBundle() as unknown as Record<string, unknown>;
    let node: Record<string, unknown> = {};
    nested.notes = node;
    for (let i = 0; i < 5000; i++) {
      const child: Record<string, unknown> = {};
      node.x = child;
      node = child;
    }
    expect(await expectSafe(JSON.stringify(await signed(nested)))).toBe(422);
    const wide = makeBundle() as unknown as { measurements: unknown[] };
    wide.measurements = Array.from({ length: 5000 }, () => ({ kind: "decode", unit: "tokens/s", mean: 1 }));
    expect(await expectSafe(JSON.stringify(await signed(wide as never)))).toBe(422);
  });
});
