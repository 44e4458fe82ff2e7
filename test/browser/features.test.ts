// The site's newer features in Chromium, by their contracts:
// - badge: model pages show `<img src=".../badge/<modelSlug>/<hardwareSlug>.svg">`, served as image/svg+xml;
// - compare: `/compare/` lists `/compare/<a>-vs-<b>/` pages;
// - history: `/history/<hardwareSlug>/<modelSlug>/` shows the runs of that pair over time;
// - search: `/search/` finds a hardware by name.
// Each fails, saying "feature not there yet", while its feature is missing.
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HardwareDetail, Leaderboard } from "../../schema/api.ts";
import { browser, firstComparePath, newContext, suite, visit } from "../support/browser.ts";

async function get(path: string): Promise<Response> {
  return fetch(`${suite().baseUrl}${path}`);
}

describe("badges, compare, history and search", () => {
  let context: BrowserContext;

  beforeAll(async () => {
    context = await newContext();
  });

  afterAll(async () => {
    await (await browser()).close();
  });

  it("renders a badge on a model page: an <img> of /badge/<model>/<hardware>.svg that loads, served as SVG", async () => {
    const { modelSlug } = suite();
    const path = `/models/${modelSlug}/`;
    const { page, errors } = await visit(context, path);
    const badges = page.locator(`img[src*="/badge/${modelSlug}/"]`);
    const count = await badges.count();
    if (count === 0) throw new Error(`feature not there yet: ${path} shows no <img> of /badge/${modelSlug}/…`);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete));
    const images = await badges.evaluateAll((imgs) =>
      imgs.map((img) => ({
        src: (img as HTMLImageElement).currentSrc || (img as HTMLImageElement).src,
        width: (img as HTMLImageElement).naturalWidth,
        alt: img.getAttribute("alt"),
      })),
    );
    const hardware = new Set(
      Leaderboard.parse(await (await get(`/v1/leaderboard?model=${modelSlug}&limit=100`)).json()).items.map(
        (r) => r.hardwareSlug,
      ),
    );
    for (const img of images) {
      const url = new URL(img.src);
      const match = url.pathname.match(/^\/badge\/([^/]+)\/([^/]+)\.svg$/);
      expect(match, `badge URL ${img.src}`).not.toBeNull();
      expect(match?.[1]).toBe(modelSlug);
      expect(hardware, `badge for hardware ${match?.[2]}`).toContain(match?.[2]);
      expect(img.width, `${img.src} drew`).toBeGreaterThan(0);
      expect(img.alt?.trim(), `${img.src} has alt text`).toBeTruthy();
      const res = await get(url.pathname + url.search);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
      expect(await res.text()).toMatch(/^<svg[\s>]/);
    }
    expect(errors, path).toEqual([]);
    await page.close();
  });

  it("lists compare pages at /compare/, and each answers 200 with a heading", async () => {
    const first = await firstComparePath();
    const html = await (await get("/compare/")).text();
    const links = [
      ...new Set([...html.matchAll(/href="(\/compare\/[^"/]+-vs-[^"/]+\/)"/g)].map((m) => m[1] as string)),
    ];
    expect(links).toContain(first);
    for (const link of links.slice(0, 20)) expect((await get(link)).status, link).toBe(200);
    const { page, errors } = await visit(context, first);
    expect(await page.locator("h1").count()).toBeGreaterThan(0);
    expect(errors, first).toEqual([]);
    await page.close();
  });

  it("shows a hardware × model history at /history/<hardware>/<model>/, linking every run of the pair", async () => {
    const { hardwareSlug, modelSlug } = suite().history;
    const path = `/history/${hardwareSlug}/${modelSlug}/`;
    const { page, status, errors } = await visit(context, path);
    if (status === 404) throw new Error(`feature not there yet: GET ${path} answered 404`);
    expect(status).toBe(200);
    const runs = Leaderboard.parse(
      await (await get(`/v1/leaderboard?hardware=${hardwareSlug}&model=${modelSlug}&limit=100`)).json(),
    ).items;
    expect(runs.length).toBeGreaterThan(0);
    const hrefs = await page.locator("main a[href]").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    for (const run of runs) expect(hrefs, `${path} links run ${run.id}`).toContain(`/runs/${run.id}/`);
    expect(errors, path).toEqual([]);
    await page.close();
  });

  it("finds a hardware by name on /search/", async () => {
    const { hardwareSlug } = suite();
    const { page, status, errors } = await visit(context, "/search/");
    if (status === 404) throw new Error("feature not there yet: GET /search/ answered 404");
    expect(status).toBe(200);
    const input = page.locator('main input[type="search"], main input[type="text"]').first();
    await input.waitFor({ state: "visible", timeout: 10_000 });
    const { name } = HardwareDetail.parse(await (await get(`/v1/hardware/${hardwareSlug}`)).json());
    const query = name.split(/\s+/).slice(0, 2).join(" ");
    await input.fill(query);
    // A plain form (no JavaScript needed): the answer is a page of results from the registry as it is now.
    await Promise.all([page.waitForURL(/\/search\/\?q=/), input.press("Enter")]);
    expect(await page.locator("main .lede").first().textContent()).toContain(`for “${query}”`);
    const result = page.locator(`main a[href*="/hardware/${hardwareSlug}/"]`).filter({ visible: true });
    await result.first().waitFor({ state: "visible", timeout: 10_000 });
    expect(errors, "/search/").toEqual([]);
    await page.close();
  });
});
