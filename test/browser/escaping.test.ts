// Submitted text is shown as text. The global setup submitted, before building the site, three signed
// bundles whose hardware name, model name, notes (bundle, device, runtime, model), quality reason and
// import source (title and an http URL) carry script, <img onerror> and <svg onload> payloads that set
// window.__xss, rotated so each payload sits in each place. Every page that shows them, and their
// badges, must run none of it, open no dialog, and show the payload as readable text. A model is filed
// under a canonical name the registry derives from its submitted name (schema/model-identity.ts): pages
// that name the model show that derived name, also as text, and the run and model pages show the name
// as submitted too. A javascript: URL where the bundle takes a URL is refused at the door.
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browser, firstComparePath, type HostileRun, newContext, PAYLOADS, suite } from "../support/browser.ts";

const ALL = [PAYLOADS.script, PAYLOADS.img, PAYLOADS.svg];

interface Checked {
  page: Page;
  dialogs: string[];
}

/** Opens a page, lets any injected handler run, and checks that nothing did. */
async function openAndCheck(context: BrowserContext, path: string): Promise<Checked> {
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  const response = await page.goto(`${suite().baseUrl}${path}`, { waitUntil: "load" });
  if (response?.status() === 404) {
    await page.close();
    throw new Error(
      `GET ${path} answered 404${/^\/(compare|history|search)\//.test(path) ? " (feature not there yet)" : ""}`,
    );
  }
  // An <img src=x onerror> fires after its failed load: give it the time.
  await page.waitForTimeout(150);
  const injected = await page.evaluate(() => ({
    xss: (window as unknown as { __xss?: unknown }).__xss,
    scripts: [...document.scripts].filter((s) => s.textContent?.includes("__xss")).length,
    handlers: [...document.querySelectorAll("*")].filter((el) =>
      [...el.attributes].some((a) => a.name.startsWith("on") && a.value.includes("__xss")),
    ).length,
    javascriptLinks: [...document.querySelectorAll("[href], [src], [action], [formaction]")]
      .flatMap((el) => ["href", "src", "action", "formaction"].map((a) => el.getAttribute(a) ?? ""))
      // Only those made of submitted text: a search widget may use javascript:void(0) of its own.
      .filter((v) => /^\s*javascript:/i.test(v) && v.includes("__xss")).length,
  }));
  expect(injected, path).toEqual({ xss: undefined, scripts: 0, handlers: 0, javascriptLinks: 0 });
  expect(dialogs, path).toEqual([]);
  return { page, dialogs };
}

async function expectVisibleText(page: Page, texts: string[], where: string): Promise<void> {
  for (const text of texts) {
    const shown = await page.getByText(text).filter({ visible: true }).count();
    expect(shown, `${where} shows ${JSON.stringify(text)} as text`).toBeGreaterThan(0);
  }
}

describe("hostile names and notes are shown as text, never run", () => {
  let context: BrowserContext;
  let hostile: HostileRun[];

  beforeAll(async () => {
    context = await newContext();
    hostile = suite().hostile;
  });

  afterAll(async () => {
    await (await browser()).close();
  });

  it("refuses a bundle whose source URL is a javascript: URL", () => {
    expect([400, 422]).toContain(suite().jsUrlStatus);
  });

  it("escapes them on the home page and the hardware and model indexes", async () => {
    for (const path of ["/", "/hardware/"]) {
      const { page } = await openAndCheck(context, path);
      await expectVisibleText(page, ALL, path);
      await page.close();
    }
    const { page } = await openAndCheck(context, "/models/");
    await expectVisibleText(
      page,
      hostile.map((r) => r.modelName),
      "/models/",
    );
    await page.close();
  });

  it("escapes them on each hostile hardware leaderboard, with the quality reason", async () => {
    for (const run of hostile) {
      const path = `/hardware/${run.hardwareSlug}/`;
      const { page } = await openAndCheck(context, path);
      await expectVisibleText(page, [run.board, run.modelName], path);
      await page.close();
    }
  });

  it("escapes them on each hostile model page", async () => {
    for (const run of hostile) {
      const path = `/models/${run.modelSlug}/`;
      const { page } = await openAndCheck(context, path);
      // The name as submitted, among the names the model was submitted under.
      await expectVisibleText(page, [run.modelName, run.model, run.board], path);
      await page.close();
    }
  });

  it("escapes them on each hostile run page: names, every note, the reason, the source title and URL", async () => {
    for (const run of hostile) {
      const path = `/runs/${run.id}/`;
      const { page } = await openAndCheck(context, path);
      // The rotation put all three payloads on every run page, and the javascript: text in its notes.
      await expectVisibleText(page, [...ALL, PAYLOADS.javascriptUrl], path);
      await page.close();
    }
  });

  it("escapes them in each hostile badge, opened as a document and as an <img>", async () => {
    for (const run of hostile) {
      const path = `/badge/${run.modelSlug}/${run.hardwareSlug}.svg`;
      const res = await fetch(`${suite().baseUrl}${path}`);
      if (res.status === 404) throw new Error(`feature not there yet: GET ${path} answered 404`);
      expect(res.headers.get("content-type"), path).toMatch(/^image\/svg\+xml/);
      const { page } = await openAndCheck(context, path);
      const text = await page.evaluate(() => document.documentElement.textContent ?? "");
      expect(text, `${path} names the model as text`).toContain(run.modelName);
      await page.close();

      const host = await context.newPage();
      await host.goto(`${suite().baseUrl}/no-such-page/`);
      const width = await host.evaluate(async (src) => {
        const img = document.createElement("img");
        img.src = src;
        img.alt = "badge";
        document.body.append(img);
        await img.decode();
        return img.naturalWidth;
      }, path);
      expect(width, `${path} draws as an <img>`).toBeGreaterThan(0);
      expect(await host.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
      await host.close();
    }
  });

  it("escapes them on the history index and each hostile history page (feature: /history/<hardware>/<model>/)", async () => {
    const { page: index } = await openAndCheck(context, "/history/");
    await expectVisibleText(index, ALL, "/history/");
    await index.close();
    for (const run of hostile) {
      const path = `/history/${run.hardwareSlug}/${run.modelSlug}/`;
      const { page } = await openAndCheck(context, path);
      await expectVisibleText(page, [run.modelName, run.board], path);
      await page.close();
    }
  });

  it("escapes them on the compare pages (feature: /compare/)", async () => {
    await firstComparePath();
    const { page } = await openAndCheck(context, "/compare/");
    const links = await page
      .locator('a[href^="/compare/"]')
      .evaluateAll((as) => [...new Set(as.map((a) => a.getAttribute("href") ?? ""))]);
    await page.close();
    const slugs = hostile.flatMap((r) => [r.hardwareSlug, r.modelSlug]);
    const hostileLinks = links.filter((l) => l.includes("-vs-") && slugs.some((s) => l.includes(s)));
    for (const link of hostileLinks.slice(0, 10)) {
      const { page: compared } = await openAndCheck(context, link);
      await compared.close();
    }
  });

  it("escapes them in search results (feature: /search/)", async () => {
    const { page } = await openAndCheck(context, "/search/");
    const input = page.locator('main input[type="search"], main input[type="text"]').first();
    await input.waitFor({ state: "visible", timeout: 10_000 });
    await input.fill("__xss");
    await Promise.all([page.waitForURL(/\/search\/\?q=__xss/), input.press("Enter")]);
    // The hostile hardware and model names are the results, shown as text.
    expect(await page.locator("main").textContent()).toContain(PAYLOADS.img);
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
    await page.close();
  });
});
