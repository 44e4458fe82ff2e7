// The headers every API answer carries: JSON that any origin may read (open data) but that no
// browser sniffs as a page, frames or runs as a document.
import { describe, expect, it } from "vitest";
import { call } from "./helpers.ts";

describe("API response headers", () => {
  it.each(["/v1/hardware", "/v1/leaderboard", "/v1/no-such-route"])(
    "GET %s is nosniff, CSP 'none' and readable cross-origin",
    async (path) => {
      const res = await call(path, { headers: { origin: "https://example.org" } });
      await res.arrayBuffer();
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    },
  );

  it("answers a CORS preflight for POST /v1/runs from any origin", async () => {
    const res = await call("/v1/runs", {
      method: "OPTIONS",
      headers: {
        origin: "https://example.org",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-methods")).toMatch(/POST/);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });
});
