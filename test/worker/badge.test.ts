// Model-card badges: the SVG and the shields.io endpoint JSON for a model on a hardware.
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { RunDetail, SubmitResponse } from "../../schema/api.ts";
import type { Bundle } from "../../schema/bundle.ts";
import { type BundleOptions, makeBundle } from "../support/bundles.ts";
import { BASE, call, postJson, signed } from "./helpers.ts";

// The endpoint badge schema as shields.io documents it (https://shields.io/badges/endpoint-badge).
const ShieldsEndpoint = z.strictObject({
  schemaVersion: z.literal(1),
  label: z.string(),
  message: z.string().min(1),
  color: z.string().min(1),
  cacheSeconds: z.number().int().min(300),
});

// badge-maker's own fills for the colours a badge may take.
const FILL = { brightgreen: "#4b0", red: "#dd4343", lightgrey: "#939393", greyBlue: "#607d8b", orange: "#ea7233" };

interface Submitted {
  id: string;
  modelSlug: string;
  hardwareSlug: string;
}

async function submit(options: BundleOptions & { quality?: "pass"; ttftMs?: number } = {}): Promise<Submitted> {
  const bundle: Bundle = makeBundle(options);
  if (options.quality === "pass") bundle.quality = { verdict: { status: "pass", source: "automatic" } };
  if (options.ttftMs !== undefined) {
    bundle.measurements.push({ kind: "ttft", unit: "ms", cold: false, nPrompt: 512, samples: [options.ttftMs] });
  }
  const res = await postJson(await signed(bundle));
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = SubmitResponse.parse(await res.json());
  const { run } = RunDetail.parse(await (await call(`/v1/runs/${id}`)).json());
  return { id, modelSlug: run.modelSlug, hardwareSlug: run.hardwareSlug };
}

function admin(path: string, body: unknown): Promise<Response> {
  return call(`/v1/admin${path}`, {
    method: "POST",
    headers: { authorization: "Bearer test-admin-token-0123456789", "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** The text badge-maker puts in the SVG's <title>: "label: message". */
function titleOf(svg: string): string | undefined {
  return /<title>([^<]*)<\/title>/.exec(svg)?.[1];
}

async function svgBadge(path: string): Promise<{ res: Response; svg: string }> {
  const res = await call(`/badge/${path}`);
  return { res, svg: await res.text() };
}

async function endpointBadge(path: string): Promise<z.infer<typeof ShieldsEndpoint>> {
  const res = await call(`/badge/${path}`);
  expect(res.status, path).toBe(200);
  return ShieldsEndpoint.parse(await res.json());
}

describe("GET /badge/:model/:hardware.svg", () => {
  it("shows the best ranked run's decode speed and quality, linked to the model page", async () => {
    await submit({ board: "Raspberry Pi 5", model: "Qwen3-4B", decodeTps: 12, quality: "pass" });
    await submit({ board: "Raspberry Pi 5", model: "Qwen3-4B", decodeTps: 9.25, quality: "pass" });
    // Same model elsewhere, and another model on the same board: neither may leak into the badge.
    await submit({ board: "Jetson Orin Nano", model: "Qwen3-4B", decodeTps: 30, quality: "pass" });
    await submit({ board: "Raspberry Pi 5", model: "Other-Model-1B", decodeTps: 50, quality: "pass" });

    const { res, svg } = await svgBadge("qwen3-4b/raspberry-pi-5.svg");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300, s-maxage=300");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(titleOf(svg)).toBe("edgebench · Qwen3 4B Q4_K_M · Raspberry Pi 5: 12.0 tok/s · quality pass");
    expect(svg).toContain(`fill="${FILL.brightgreen}"`);
    expect(svg).toContain(`href="${BASE}/models/qwen3-4b/"`);
  });

  it("shows prefill or time to first token on ?metric=, and a grey badge for an unknown metric", async () => {
    await submit({ board: "Raspberry Pi 5", model: "Qwen3-4B", decodeTps: 12, ttftMs: 180.4 });
    const prefill = await svgBadge("qwen3-4b/raspberry-pi-5.svg?metric=prefill_tps");
    // makeBundle's prefill samples are 41.2, 40.8 and 41.0 with a mean of 41.
    expect(titleOf(prefill.svg)).toBe(
      "edgebench · Qwen3 4B Q4_K_M · Raspberry Pi 5: prefill 41.0 tok/s · quality unknown",
    );
    expect(prefill.svg).toContain(`fill="${FILL.greyBlue}"`);
    const ttft = await svgBadge("qwen3-4b/raspberry-pi-5.svg?metric=ttft_ms");
    expect(titleOf(ttft.svg)).toBe("edgebench · Qwen3 4B Q4_K_M · Raspberry Pi 5: TTFT 180 ms · quality unknown");
    const bad = await svgBadge("qwen3-4b/raspberry-pi-5.svg?metric=speed");
    expect(bad.res.status).toBe(200);
    expect(titleOf(bad.svg)).toBe("edgebench: unknown metric");
  });

  it("prefers a slower ranked run to a faster one that failed quality, and shows a failure in red", async () => {
    await submit({ board: "Raspberry Pi 5", model: "Qwen3-4B", decodeTps: 30, qualityFail: "degenerate output" });
    const onlyFailed = await svgBadge("qwen3-4b/raspberry-pi-5.svg");
    expect(titleOf(onlyFailed.svg)).toBe("edgebench · Qwen3 4B Q4_K_M · Raspberry Pi 5: 30.0 tok/s · quality fail");
    expect(onlyFailed.svg).toContain(`fill="${FILL.red}"`);

    await submit({ board: "Raspberry Pi 5", model: "Qwen3-4B", decodeTps: 8, quality: "pass" });
    const { svg } = await svgBadge("qwen3-4b/raspberry-pi-5.svg");
    expect(titleOf(svg)).toBe("edgebench · Qwen3 4B Q4_K_M · Raspberry Pi 5: 8.0 tok/s · quality pass");
  });

  it("leaves hidden runs out", async () => {
    const fast = await submit({ board: "Raspberry Pi 5", model: "Qwen3-4B", decodeTps: 20, quality: "pass" });
    await submit({ board: "Raspberry Pi 5", model: "Qwen3-4B", decodeTps: 10, quality: "pass" });
    expect((await admin(`/runs/${fast.id}/hide`, { reason: "implausible" })).status).toBe(200);
    expect(titleOf((await svgBadge("qwen3-4b/raspberry-pi-5.svg")).svg)).toMatch(/: 10\.0 tok\/s · quality pass$/);
  });

  it("answers a grey 'no runs yet' badge with status 200 for an unknown pair or a name that is not a slug", async () => {
    await submit({ board: "Raspberry Pi 5", model: "Qwen3-4B" });
    const paths = [
      "qwen3-4b/raspberry-pi-4.svg",
      "no-such-model/raspberry-pi-5.svg",
      "Qwen3%204B/raspberry-pi-5.svg",
      "qwen3-4b/Raspberry%20Pi%205.svg",
      `${"x".repeat(300)}/raspberry-pi-5.svg`,
      "qwen3-4b/-.svg",
      "qwen3-4b/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E.svg",
      "%3Cscript%3E/%27.svg",
    ];
    for (const path of paths) {
      const { res, svg } = await svgBadge(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toBe("image/svg+xml; charset=utf-8");
      expect(titleOf(svg), path).toBe("edgebench: no runs yet");
      expect(svg, path).toContain(`fill="${FILL.lightgrey}"`);
      // Nothing of the request is echoed into the badge.
      expect(svg.toLowerCase(), path).not.toContain("script");
      expect(svg, path).not.toContain("href=");
    }
  });

  it("resolves built-in and moderator-added aliases of the model and the hardware", async () => {
    await submit({ board: "Raspberry Pi 4 Model B Rev 1.4", model: "Qwen3-4B", decodeTps: 6.5, quality: "pass" });
    expect((await admin("/aliases", { kind: "model", alias: "qwen-3-4b", slug: "qwen3-4b" })).status).toBe(201);
    const expected = "edgebench · Qwen3 4B Q4_K_M · Raspberry Pi 4 Model B Rev 1.4: 6.5 tok/s · quality pass";
    for (const path of ["qwen3-4b/raspberry-pi-4", "qwen3-4b/rpi4", "qwen-3-4b/pi-4", "qwen-3-4b/raspberry-pi-4b"]) {
      const { svg } = await svgBadge(`${path}.svg`);
      expect(titleOf(svg), path).toBe(expected);
      // The link goes to the canonical model page whichever name was asked for.
      expect(svg, path).toContain(`href="${BASE}/models/qwen3-4b/"`);
    }
  });

  it("escapes a hostile model name and hardware name stored from a submitted bundle", async () => {
    const modelPayload = `<script>alert(1)</script>"><svg onload=alert(2)>`;
    const boardPayload = `"><img src=x onerror=alert(3)>`;
    const { modelSlug, hardwareSlug } = await submit({ board: boardPayload, model: modelPayload, quality: "pass" });
    const { res, svg } = await svgBadge(`${modelSlug}/${hardwareSlug}.svg`);
    expect(res.status).toBe(200);
    expect(svg).not.toMatch(/<script/i);
    expect(svg).not.toMatch(/<svg onload/i);
    expect(svg).not.toMatch(/<img/i);
    expect(svg).not.toMatch(/onload=alert\(2\)>/);
    const escaped = (text: string) =>
      text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
    expect(svg).toContain(escaped(modelPayload));
    expect(svg).toContain(escaped(boardPayload));
    // Exactly one element of each kind that badge-maker draws: no element came from the names.
    expect(svg.match(/<svg/g)).toHaveLength(1);

    const json = await endpointBadge(`${modelSlug}/${hardwareSlug}.json`);
    expect(json.label).toBe(`edgebench · ${modelPayload} Q4_K_M · ${boardPayload}`);
  });

  it("answers 304 to If-None-Match with the current ETag, and a new ETag once the best run changes", async () => {
    await submit({ board: "Raspberry Pi 5", model: "Qwen3-4B", decodeTps: 12, quality: "pass" });
    const first = await call("/badge/qwen3-4b/raspberry-pi-5.svg");
    const tag = first.headers.get("etag");
    expect(tag).toMatch(/^"[0-9a-f]+"$/);
    await first.text();

    const again = await call("/badge/qwen3-4b/raspberry-pi-5.svg", { headers: { "if-none-match": tag ?? "" } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(tag);
    expect(again.headers.get("cache-control")).toBe("public, max-age=300, s-maxage=300");

    await submit({ board: "Raspberry Pi 5", model: "Qwen3-4B", decodeTps: 14, quality: "pass" });
    const changed = await call("/badge/qwen3-4b/raspberry-pi-5.svg", { headers: { "if-none-match": tag ?? "" } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(tag);
    expect(titleOf(await changed.text())).toMatch(/: 14\.0 tok\/s/);
  });
});

describe("GET /badge/:model/:hardware.json", () => {
  it("answers shields.io's endpoint schema with the same words as the SVG", async () => {
    await submit({ board: "Raspberry Pi 5", model: "Qwen3-4B", decodeTps: 12, quality: "pass" });
    const res = await call("/badge/qwen3-4b/raspberry-pi-5.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300, s-maxage=300");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]+"$/);
    expect(ShieldsEndpoint.parse(await res.json())).toEqual({
      schemaVersion: 1,
      label: "edgebench · Qwen3 4B Q4_K_M · Raspberry Pi 5",
      message: "12.0 tok/s · quality pass",
      color: "brightgreen",
      cacheSeconds: 300,
    });
    const { svg } = await svgBadge("qwen3-4b/raspberry-pi-5.svg");
    expect(titleOf(svg)).toBe("edgebench · Qwen3 4B Q4_K_M · Raspberry Pi 5: 12.0 tok/s · quality pass");

    expect(await endpointBadge("qwen3-4b/raspberry-pi-5.json?metric=prefill_tps")).toMatchObject({
      message: "prefill 41.0 tok/s · quality pass",
    });
  });

  it("answers a grey 'no runs yet' endpoint badge for an unknown pair or an invalid name", async () => {
    for (const path of ["qwen3-4b/raspberry-pi-5.json", "%3Cscript%3E/x.json", "a/b%20c.json"]) {
      expect(await endpointBadge(path), path).toEqual({
        schemaVersion: 1,
        label: "edgebench",
        message: "no runs yet",
        color: "lightgrey",
        cacheSeconds: 300,
      });
    }
  });

  it("shows a failed run's figure in red with its quality", async () => {
    await submit({ board: "Raspberry Pi 5", model: "Qwen3-4B", decodeTps: 30, qualityFail: "degenerate output" });
    expect(await endpointBadge("qwen3-4b/raspberry-pi-5.json")).toMatchObject({
      message: "30.0 tok/s · quality fail",
      color: "red",
    });
  });
});
