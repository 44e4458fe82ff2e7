import { describe, expect, it } from "vitest";
import { ErrorBody, SubmitResponse } from "../../schema/api.ts";
import { keyRevocationRecord, keyRotationRecord, retractionRecord } from "../../schema/key-records.ts";
import { type Envelope, generateKeyPair, type KeyPair, signPayload } from "../../schema/signing.ts";
import { makeBundle } from "../support/bundles.ts";
import { call, keyTablesSnapshot } from "./helpers.ts";

type Payload = Record<string, unknown>;

function post(path: string, body: unknown): Promise<Response> {
  return call(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

const sign = (payload: Payload, key: KeyPair) => signPayload(payload, key.privateKey);

/** What each test starts from: a key the registry knows, with two runs of its own. */
interface Setup {
  key: KeyPair;
  runId: string;
  spareRunId: string;
}

async function setUp(): Promise<Setup> {
  const key = await generateKeyPair();
  const ids: string[] = [];
  for (const notes of ["first", "second"]) {
    const res = await post("/v1/runs", await sign(makeBundle({ notes }), key));
    expect(res.status).toBe(201);
    ids.push(SubmitResponse.parse(await res.json()).id);
  }
  return { key, runId: ids[0] as string, spareRunId: ids[1] as string };
}

function bundleWithNonce(nonce: string, notes: string): Payload {
  const bundle = makeBundle({ notes });
  return { ...bundle, provenance: { ...bundle.provenance, nonce } };
}

interface SignedRoute {
  path: string;
  /** A payload the route would accept from `s.key`, with this nonce. */
  payload(s: Setup, nonce: string): Promise<Payload>;
  /** An accepted request that uses the nonce first, so the route's own request is a replay. */
  useNonce(s: Setup, nonce: string): Promise<void>;
  /** One changed value, so the signature no longer matches. */
  tamper(payload: Payload): Payload;
}

/** Key records share their nonces across routes: a retraction of the spare run takes it first. */
async function retractSpare(s: Setup, nonce: string): Promise<void> {
  const res = await post("/v1/retractions", await sign({ ...retractionRecord(s.spareRunId, "spare"), nonce }, s.key));
  expect(res.status).toBe(200);
}

async function submitWithNonce(s: Setup, nonce: string): Promise<void> {
  const res = await post("/v1/runs", await sign(bundleWithNonce(nonce, "took the nonce first"), s.key));
  expect(res.status).toBe(201);
}

const tamperRecord = (payload: Payload): Payload => ({ ...payload, createdAt: new Date(0).toISOString() });
const tamperBundle = (payload: Payload): Payload => ({ ...payload, notes: "faster than measured" });

const routes: SignedRoute[] = [
  {
    path: "/v1/runs",
    payload: async (_s, nonce) => bundleWithNonce(nonce, "the request under test"),
    useNonce: submitWithNonce,
    tamper: tamperBundle,
  },
  {
    path: "/v1/runs/dry-run",
    payload: async (_s, nonce) => bundleWithNonce(nonce, "the request under test"),
    useNonce: submitWithNonce,
    tamper: tamperBundle,
  },
  {
    path: "/v1/keys/rotate",
    payload: async (s, nonce) => ({
      ...(await keyRotationRecord(s.key.publicKey, (await generateKeyPair()).privateKey)),
      nonce,
    }),
    useNonce: retractSpare,
    tamper: tamperRecord,
  },
  {
    path: "/v1/keys/revoke",
    payload: async (_s, nonce) => ({ ...keyRevocationRecord("the request under test"), nonce }),
    useNonce: retractSpare,
    tamper: tamperRecord,
  },
  {
    path: "/v1/retractions",
    payload: async (s, nonce) => ({ ...retractionRecord(s.runId, "the request under test"), nonce }),
    useNonce: retractSpare,
    tamper: tamperRecord,
  },
];

interface Case {
  name: string;
  status: number;
  code: string;
  /** Any preparation (which may write), then the body to send. */
  make(route: SignedRoute, s: Setup): Promise<unknown>;
}

const NONCE = "suite-nonce-0001";

const cases: Case[] = [
  {
    name: "a missing signature",
    status: 401,
    code: "bad_signature",
    async make(route, s) {
      const { signature: _, ...rest } = await sign(await route.payload(s, NONCE), s.key);
      return rest;
    },
  },
  {
    name: "a malformed signature",
    status: 401,
    code: "bad_signature",
    make: async (route, s) => ({ ...(await sign(await route.payload(s, NONCE), s.key)), signature: "not-a-signature" }),
  },
  {
    name: "a signature by another key than the one named",
    status: 401,
    code: "bad_signature",
    async make(route, s) {
      const other = await sign(await route.payload(s, NONCE), await generateKeyPair());
      return { ...other, publicKey: s.key.publicKey };
    },
  },
  {
    name: "a tampered payload",
    status: 401,
    code: "bad_signature",
    async make(route, s) {
      const envelope: Envelope = await sign(await route.payload(s, NONCE), s.key);
      return { ...envelope, payload: route.tamper(envelope.payload) };
    },
  },
  {
    name: "a replay: the same nonce in other bytes",
    status: 409,
    code: "nonce_reused",
    async make(route, s) {
      await route.useNonce(s, NONCE);
      return sign(await route.payload(s, NONCE), s.key);
    },
  },
  {
    name: "a revoked key",
    status: 403,
    code: "key_revoked",
    async make(route, s) {
      const res = await post("/v1/keys/revoke", await sign(keyRevocationRecord("suite"), s.key));
      expect(res.status).toBe(200);
      return sign(await route.payload(s, NONCE), s.key);
    },
  },
];

const rows = keyTablesSnapshot;

describe.each(routes)("POST $path refuses bad signatures and replays", (route) => {
  it.each(cases)("$status $code for $name, nothing written", async ({ make, status, code }) => {
    const s = await setUp();
    const body = await make(route, s);
    const before = await rows();
    const res = await post(route.path, body);
    const answer = ErrorBody.parse(await res.json());
    expect({ status: res.status, code: answer.error.code }, answer.error.message).toEqual({ status, code });
    expect(await rows()).toEqual(before);
  });

  it("accepts the same request when nothing is wrong (the cases above fail for their reason only)", async () => {
    const s = await setUp();
    const res = await post(route.path, await sign(await route.payload(s, NONCE), s.key));
    expect(res.status).toBeLessThan(300);
  });
});
