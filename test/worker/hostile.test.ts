// The hostile input corpus (test/fixtures/hostile/) through the API inside workerd: hostile bodies
// are refused with a 4xx in the one error shape and write nothing; hostile strings inside validly
// signed bundles are stored verbatim and come back JSON-escaped; path-traversal slugs on every route
// that takes a slug answer 4xx/404 (or, for badges, a grey SVG), never a file and never a 5xx.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  DryRunResponse,
  ErrorBody,
  HardwareDetail,
  Leaderboard,
  MAX_BODY_BYTES,
  RunDetail,
  SubmitResponse,
} from "../../schema/api.ts";
import { hardwareSlug, modelSlug } from "../../schema/slug.ts";
import {
  BIDI,
  HOSTILE_STRINGS,
  type HostileString,
  INJECTION,
  INVALID_UTF8,
  invalidUtf8InJson,
  isWellFormed,
  JAVASCRIPT_URLS,
  LONG_STRINGS,
  NUL_BYTES,
  PATH_TRAVERSAL,
  SVG_INJECTION,
  XSS,
} from "../fixtures/hostile/corpus.ts";
import {
  deeplyNestedArrays,
  deeplyNestedObjects,
  endlessStream,
  hugeNumberJson,
  manyKeysJson,
  oversizedJson,
  wideJson,
} from "../fixtures/hostile/generate.ts";
import { makeBundle } from "../support/bundles.ts";
import { call, signed } from "./helpers.ts";

const WRITE_ROUTES = ["/v1/runs", "/v1/runs/dry-run"] as const;

/** What a file leaking through a traversal would look like. */
const FILE_CONTENTS = /root:.*:0:0:|\[(extensions|fonts)\]|SQLite format 3|d1_migrations/;

/** Rows in every table the write routes touch, in one query (a refusal must leave all unchanged). */
async function rowCounts(): Promise<Record<string, number> | null> {
  return env.DB.prepare(
    `select (select count(*) from runs) as runs, (select count(*) from devices) as devices,
     (select count(*) from hardware) as hardware, (select count(*) from models) as models,
     (select count(*) from cells) as cells, (select count(*) from audit_log) as audit_log`,
  ).first<Record<string, number>>();
}

/** Bodies that are not a signed envelope, each with the content type it is sent as. */
function hostileBodies(): { name: string; body: BodyInit; contentType?: string }[] {
  const bodies: { name: string; body: BodyInit; contentType?: string }[] = [];
  for (const s of HOSTILE_STRINGS) {
    bodies.push({ name: `raw ${s.category}: ${s.name}`, body: s.value });
    bodies.push({ name: `JSON string ${s.category}: ${s.name}`, body: JSON.stringify(s.value) });
    bodies.push({
      name: `envelope fields ${s.category}: ${s.name}`,
      body: JSON.stringify({ payload: { notes: s.value }, publicKey: s.value, signature: s.value }),
    });
  }
  bodies.push({ name: "XSS as text/html", body: XSS[0]?.value ?? "", contentType: "text/html" });
  bodies.push({ name: "SVG as image/svg+xml", body: SVG_INJECTION[0]?.value ?? "", contentType: "image/svg+xml" });
  for (const { name, bytes } of INVALID_UTF8) {
    bodies.push({ name: `invalid UTF-8 alone: ${name}`, body: new Uint8Array(bytes) });
    bodies.push({ name: `invalid UTF-8 in a JSON string: ${name}`, body: invalidUtf8InJson(bytes) });
  }
  bodies.push({ name: "20,000 nested arrays", body: deeplyNestedArrays(20_000) });
  bodies.push({ name: "200,000 nested arrays (over the cap)", body: deeplyNestedArrays(200_000) });
  bodies.push({ name: "20,000 nested objects", body: deeplyNestedObjects(20_000) });
  bodies.push({ name: "a body one byte over the cap", body: oversizedJson(MAX_BODY_BYTES) });
  bodies.push({ name: "a 4 MB body", body: oversizedJson(4 * 1024 * 1024) });
  bodies.push({ name: "20,000 small objects", body: wideJson(20_000) });
  bodies.push({ name: "20,000 duplicate keys", body: manyKeysJson(20_000) });
  bodies.push({ name: "a 10,000-digit number", body: hugeNumberJson(10_000) });
  bodies.push({ name: "an empty body", body: "" });
  bodies.push({ name: "a BOM and nothing else", body: "\ufeff" });
  bodies.push({
    name: "prototype keys",
    body: '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"payload":{},"publicKey":"x","signature":"y"}',
  });
  return bodies;
}

async function post(path: string, body: BodyInit, contentType = "application/json", init: RequestInit = {}) {
  return call(path, { method: "POST", headers: { "content-type": contentType }, body, ...init });
}

/** A refusal: a 4xx, the one error shape as JSON, and nothing written. */
async function expectRefused(res: Response, before: Awaited<ReturnType<typeof rowCounts>>, what: string) {
  const text = await res.text();
  expect(res.status, `${what}: ${text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what}: ${text.slice(0, 300)}`).toBeLessThan(500);
  expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
  expect(ErrorBody.safeParse(JSON.parse(text)).success, `${what}: ${text.slice(0, 300)}`).toBe(true);
  expect(await rowCounts(), what).toEqual(before);
}

/** No raw control character (NUL, ESC, DEL…) in a JSON answer: JSON escapes them. */
function expectNoRawControls(text: string, what: string) {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the check
  expect(/[\u0000-\u001f]/.test(text), what).toBe(false);
}

describe("hostile bodies on the write routes", { timeout: 120_000 }, () => {
  // The batch route reads a body of its own shape ({ envelopes }): every hostile body is refused whole.
  for (const route of [...WRITE_ROUTES, "/v1/runs/batch"] as const) {
    it(`POST ${route} refuses every hostile body with a 4xx in the error shape and writes nothing`, async () => {
      const before = await rowCounts();
      for (const { name, body, contentType } of hostileBodies()) {
        await expectRefused(await post(route, body, contentType), before, `${route} ${name}`);
      }
    });

    it(`POST ${route} refuses an endless streamed body at the size cap`, async () => {
      const before = await rowCounts();
      // workerd needs duplex for a streamed request body; the DOM type lacks it.
      const res = await post(route, endlessStream(8 * MAX_BODY_BYTES), "application/json", {
        duplex: "half",
      } as RequestInit);
      expect(res.status).toBe(413);
      await expectRefused(res, before, `${route} endless stream`);
    });

    // Signed bundles are envelopes of the single-run routes; the batch route reads them as a bad batch.
    (route === "/v1/runs/batch" ? () => undefined : it)(
      `POST ${route} refuses signed bundles whose strings are over their limits or not UTF-8`,
      async () => {
        const cases: [string, Record<string, unknown>][] = [];
        const long201 = LONG_STRINGS.find((s) => s.name === "201 characters")?.value as string;
        const long20001 = LONG_STRINGS.find((s) => s.name === "20,001 characters")?.value as string;
        cases.push(["a 201-character board", withStrings({ board: long201 })]);
        cases.push(["a 201-character model name", withStrings({ model: long201 })]);
        cases.push(["20,001-character notes", withStrings({ notes: long20001 })]);
        cases.push(["a board of spaces only", withStrings({ board: " \u00a0\t\u3000 " })]);
        for (const [name, payload] of cases) {
          const before = await rowCounts();
          const res = await post(route, JSON.stringify(await signed(payload)));
          // Well-formed and signed, but not a valid bundle: unprocessable content.
          expect(res.status, name).toBe(422);
          await expectRefused(res, before, `${route} ${name}`);
        }
        // A lone surrogate has no UTF-8 form, so it cannot be signed over; sent anyway, it is refused.
        for (const s of HOSTILE_STRINGS.filter((x) => !isWellFormed(x.value))) {
          const envelope = await signed(withStrings({}));
          const before = await rowCounts();
          const body = JSON.stringify({ ...envelope, payload: { ...envelope.payload, notes: s.value } });
          await expectRefused(await post(route, body), before, `${route} ${s.name}`);
        }
      },
    );
  }
});

/** A valid bundle with hostile strings in its free-text places. */
function withStrings(strings: { board?: string; model?: string; notes?: string }): Record<string, unknown> {
  const bundle = makeBundle({ board: strings.board, model: strings.model }) as unknown as Record<string, unknown>;
  if (strings.notes !== undefined) bundle.notes = strings.notes;
  return bundle;
}

/** Strings a bundle accepts as a name: at most 200 characters, not blank, no surrounding space (trimmed). */
const nameable = (s: HostileString) =>
  isWellFormed(s.value) && s.value.length <= 200 && s.value.trim() === s.value && s.value.length > 0;

describe("hostile strings inside validly signed bundles", { timeout: 120_000 }, () => {
  const storable = HOSTILE_STRINGS.filter((s) => isWellFormed(s.value) && s.value.length <= 20_000);

  it("dry-run accepts them and writes nothing", async () => {
    for (const s of storable) {
      const payload = withStrings({ notes: s.value, ...(nameable(s) ? { board: s.value, model: s.value } : {}) });
      const before = await rowCounts();
      const res = await post("/v1/runs/dry-run", JSON.stringify(await signed(payload)));
      const text = await res.text();
      expect(res.status, `${s.name}: ${text.slice(0, 300)}`).toBe(200);
      const answer = DryRunResponse.parse(JSON.parse(text));
      if (nameable(s)) expect(answer.summary.sourceModelName, s.name).toBe(s.value);
      expect(await rowCounts(), s.name).toEqual(before);
    }
  });

  it("stores them verbatim and returns them JSON-escaped from every read", async () => {
    for (const s of storable) {
      const named = nameable(s);
      const payload = withStrings({ notes: s.value, ...(named ? { board: s.value, model: s.value } : {}) });
      const res = await post("/v1/runs", JSON.stringify(await signed(payload)));
      const text = await res.text();
      expect(res.status, `${s.name}: ${text.slice(0, 300)}`).toBe(201);
      const { id } = SubmitResponse.parse(JSON.parse(text));

      const read = await call(`/v1/runs/${id}`);
      expect(read.status, s.name).toBe(200);
      expect(read.headers.get("content-type"), s.name).toMatch(/^application\/json/);
      const raw = await read.text();
      expectNoRawControls(raw, s.name);
      const detail = RunDetail.parse(JSON.parse(raw));
      // The envelope exactly as signed: every hostile character still there.
      expect(detail.envelope.payload, s.name).toEqual(payload);
      expect((detail.envelope.payload as { notes: string }).notes, s.name).toBe(s.value);
      if (!named) continue;
      // The names as the bundle gave them, verbatim (the canonical model name is derived from it).
      expect(detail.run.sourceModelName, s.name).toBe(s.value);
      expect(detail.run.hardwareName, s.name).toBe(s.value);

      // The catalog and the leaderboard, under the slugs the ingest rules gave them.
      const hwSlug = hardwareSlug({ board: s.value });
      const hw = await call(`/v1/hardware/${encodeURIComponent(hwSlug)}`);
      const hwText = await hw.text();
      expect(hw.status, `${s.name}: /v1/hardware/${hwSlug}`).toBe(200);
      expectNoRawControls(hwText, s.name);
      expect(HardwareDetail.parse(JSON.parse(hwText)).slug).toBe(hwSlug);
      const board = await call(
        `/v1/leaderboard?hardware=${encodeURIComponent(hwSlug)}&model=${encodeURIComponent(modelSlug({ name: s.value }))}`,
      );
      const boardText = await board.text();
      expect(board.status, s.name).toBe(200);
      expectNoRawControls(boardText, s.name);
      expect(
        Leaderboard.parse(JSON.parse(boardText)).items.map((r) => r.id),
        s.name,
      ).toContain(id);
    }
  });

  it("escapes control characters in JSON rather than sending them raw", async () => {
    const s = NUL_BYTES.find((x) => x.name === "nul inside") as HostileString;
    const payload = withStrings({ notes: `${s.value} ${INJECTION[0]?.value}` });
    const { id } = SubmitResponse.parse(await (await post("/v1/runs", JSON.stringify(await signed(payload)))).json());
    const raw = await (await call(`/v1/runs/${id}`)).text();
    expect(raw).toContain("Raspberry\\u0000Pi");
    expect(raw).not.toContain("\u0000");
  });
});

/** A slug as a path segment: raw (the URL parser may resolve its dot segments) and percent-encoded. */
function segments(slug: string): { label: string; segment: string }[] {
  return [
    { label: "raw", segment: slug },
    { label: "encoded", segment: encodeURIComponent(slug) },
  ];
}

/** The traversal slugs, plus the other hostile strings short enough to be a slug's length. */
const SLUG_PROBES: readonly HostileString[] = [
  ...PATH_TRAVERSAL,
  ...XSS.slice(0, 3),
  ...SVG_INJECTION.slice(0, 3),
  ...JAVASCRIPT_URLS.slice(0, 2),
  ...NUL_BYTES.slice(0, 3),
  ...BIDI.slice(0, 2),
];

async function expectNoFile(res: Response, what: string): Promise<string> {
  const text = await res.text();
  expect(res.status, `${what}: ${text.slice(0, 200)}`).toBeLessThan(500);
  expect(FILE_CONTENTS.test(text), `${what} answered a file: ${text.slice(0, 200)}`).toBe(false);
  return text;
}

describe("path-traversal and hostile slugs on the read routes", { timeout: 120_000 }, () => {
  it("GET /v1/hardware/:slug and /v1/models/:slug answer 404 in the error shape, never a file", async () => {
    for (const s of SLUG_PROBES) {
      for (const { label, segment } of segments(s.value)) {
        for (const base of ["/v1/hardware/", "/v1/models/"]) {
          const path = `${base}${segment}`;
          const res = await call(path);
          const what = `${path} (${s.name}, ${label})`;
          const text = await expectNoFile(res, what);
          const resolved = new URL(path, "http://registry.test").pathname;
          if (resolved.startsWith(base)) {
            expect(res.status, what).toBe(404);
            expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
            expect(ErrorBody.parse(JSON.parse(text)).error.code, what).toBe("not_found");
            expectNoRawControls(text, what);
          } else {
            // The URL parser resolved the dots before the Worker saw it: some other path, and not found.
            expect(res.status, `${what} → ${resolved}`).toBe(404);
          }
        }
      }
    }
  });

  it("GET /v1/leaderboard?hardware= and ?model= answer 400 invalid_query, never a file", async () => {
    for (const s of SLUG_PROBES) {
      for (const param of ["hardware", "model"]) {
        const path = `/v1/leaderboard?${param}=${encodeURIComponent(s.value)}`;
        const res = await call(path);
        const text = await expectNoFile(res, path);
        expect(res.status, `${path} (${s.name})`).toBe(400);
        expect(ErrorBody.parse(JSON.parse(text)).error.code, path).toBe("invalid_query");
        expectNoRawControls(text, path);
      }
    }
  });

  it("GET /badge/<model>/<hardware>.svg answers a grey SVG for hostile slugs, never an error page or a file", async () => {
    for (const s of SLUG_PROBES) {
      for (const { label, segment } of segments(s.value)) {
        for (const path of [`/badge/${segment}/raspberry-pi-5.svg`, `/badge/gemma-3-1b/${segment}.svg`]) {
          const what = `${path} (${s.name}, ${label})`;
          const res = await call(path);
          const text = await expectNoFile(res, what);
          const resolved = new URL(path, "http://registry.test").pathname;
          if (!/^\/badge\/[^/]+\/[^/]+\.svg$/.test(resolved)) {
            // Dot segments resolved by the URL parser: not a badge path any more; refused, never a file.
            expect(res.status, `${what} → ${resolved}`).toBeGreaterThanOrEqual(400);
            continue;
          }
          expect(res.headers.get("content-type"), `${what}: ${text.slice(0, 200)}`).toMatch(/^image\/svg\+xml/);
          expect(text, what).toMatch(/^(<\?xml[^>]*>\s*)?<svg[\s>]/);
          expect(text, what).toMatch(/#9f9f9f|#555|#999|#aaa|#bbb|#ccc|lightgr[ae]y|\bgr[ae]y\b/i);
          // Whatever was asked for is text in the SVG, never markup.
          expect(text, what).not.toMatch(/<script|<foreignObject|<iframe|\sonload=|\sonerror=|javascript:/i);
        }
      }
    }
  });
});
