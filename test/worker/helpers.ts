import { env, exports } from "cloudflare:workers";
import { type Envelope, generateKeyPair, type KeyPair, signPayload } from "../../schema/signing.ts";
import type { NodeSigned } from "../support/node-signed.ts";

export const BASE = "http://registry.test";

export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

export function postJson(body: unknown, init: { contentType?: string } = {}): Promise<Response> {
  return call("/v1/runs", {
    method: "POST",
    headers: { "content-type": init.contentType ?? "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Rows in every table: a rejected request must leave all of them unchanged. */
export async function rowCounts(): Promise<{ runs: number; devices: number; hardware: number; models: number }> {
  const count = async (table: string) =>
    (await env.DB.prepare(`select count(*) as n from ${table}`).first<{ n: number }>())?.n ?? -1;
  return {
    runs: await count("runs"),
    devices: await count("devices"),
    hardware: await count("hardware"),
    models: await count("models"),
  };
}

/** Every row of every table a key action may touch: a refusal must leave all of them as they were. */
export async function keyTablesSnapshot() {
  const all = async (table: string) => (await env.DB.prepare(`select * from ${table} order by 1`).all()).results;
  return {
    runs: await all("runs"),
    devices: await all("devices"),
    cells: await all("cells"),
    audit: await all("audit_log"),
  };
}

let cachedKey: KeyPair | undefined;
export async function testKey(): Promise<KeyPair> {
  cachedKey ??= await generateKeyPair();
  return cachedKey;
}

export async function signed(payload: Record<string, unknown>, key?: KeyPair): Promise<Envelope> {
  return signPayload(payload, (key ?? (await testKey())).privateKey);
}

/** The seeds and sample that the Node-side global setup signed. */
export function nodeSigned(): NodeSigned {
  return JSON.parse(env.NODE_SIGNED) as NodeSigned;
}
