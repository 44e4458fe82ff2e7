// Shared by the browser tests (test/browser/): Debian's Chromium driven by playwright-core against
// the site served by the one local registry of test/support/browser-setup.ts.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { inject } from "vitest";
import { ROOT } from "../../scripts/local-registry.ts";
import type { BrowserSuite } from "./browser-shared.ts";

export * from "./browser-shared.ts";

export const SCREENSHOTS_DIR = join(ROOT, "test-artifacts", "screenshots");

export function suite(): BrowserSuite {
  return inject("browserSuite");
}

let connected: Promise<Browser> | undefined;

/** The suite's one Chromium, started by the global setup; each test file connects to it once. */
export function browser(): Promise<Browser> {
  connected ??= chromium.connect(suite().wsEndpoint);
  return connected;
}

export async function newContext(options: BrowserContextOptions = {}): Promise<BrowserContext> {
  return (await browser()).newContext({ viewport: { width: 1280, height: 900 }, ...options });
}

export interface PageType {
  /** The screenshot's file name. */
  name: string;
  path: string;
  /** A page of a feature still being built (compare, history, search). */
  feature?: string;
  status?: number;
}

/** One page of each type the site has, or is to have. */
export function pageTypes(): PageType[] {
  const s = suite();
  return [
    { name: "home", path: "/" },
    { name: "hardware-index", path: "/hardware/" },
    { name: "hardware", path: `/hardware/${s.hardwareSlug}/` },
    { name: "models-index", path: "/models/" },
    { name: "model", path: `/models/${s.modelSlug}/` },
    { name: "run", path: `/runs/${s.plainRunId}/` },
    { name: "run-sweep", path: `/runs/${s.sweepRunId}/` },
    { name: "run-soak", path: `/runs/${s.soakRunId}/` },
    { name: "run-gpu", path: `/runs/${s.gpuRunId}/` },
    { name: "run-gpu-partial", path: `/runs/${s.gpuPartialRunId}/` },
    { name: "compare-index", path: "/compare/", feature: "compare pages" },
    { name: "compare", path: "", feature: "compare pages" },
    { name: "history-index", path: "/history/", feature: "history pages" },
    { name: "history", path: `/history/${s.history.hardwareSlug}/${s.history.modelSlug}/`, feature: "history pages" },
    { name: "search", path: "/search/", feature: "search page" },
    { name: "404", path: "/no-such-page/", status: 404 },
  ];
}

/** The first `/compare/<a>-vs-<b>/` page linked from `/compare/`; fails clearly while there is none. */
export async function firstComparePath(): Promise<string> {
  const res = await fetch(`${suite().baseUrl}/compare/`);
  if (res.status !== 200) throw new Error(`feature not there yet: GET /compare/ answered ${res.status}`);
  const html = await res.text();
  const href = html.match(/href="(\/compare\/[^"/]+-vs-[^"/]+\/)"/)?.[1];
  if (!href) throw new Error("feature not there yet: /compare/ links to no /compare/<a>-vs-<b>/ page");
  return href;
}

export async function resolvePath(type: PageType): Promise<string> {
  return type.name === "compare" ? firstComparePath() : type.path;
}

export interface Visit {
  page: Page;
  status: number;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** The Content-Security-Policy the page was served with. */
  csp: string | undefined;
}

/**
 * Opens `path` in a new page of `context`, collecting console errors and uncaught exceptions. A page
 * served with a 404 status logs that as a console error of its own document, which is not counted.
 */
export async function visit(context: BrowserContext, path: string): Promise<Visit> {
  const page = await context.newPage();
  const errors: string[] = [];
  const url = `${suite().baseUrl}${path}`;
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const text = msg.text();
    if (/status of 404/.test(text) && msg.location().url === url) return;
    // Chromium asks for /favicon.ico by itself when a page declares no icon; that is not the page's error.
    if (/status of 404/.test(text) && new URL(msg.location().url || url).pathname === "/favicon.ico") return;
    errors.push(`console.error: ${text} (${msg.location().url})`);
  });
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  page.on("requestfailed", (req) => errors.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  const response = await page.goto(url, { waitUntil: "load" });
  const csp = (await response?.allHeaders())?.["content-security-policy"];
  return { page, status: response?.status() ?? 0, errors, csp };
}

export async function screenshot(page: Page, file: string): Promise<void> {
  await mkdir(SCREENSHOTS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS_DIR, file), fullPage: true });
}

/** Every table body row's text, per table, as the reader sees the page before touching it. */
export async function tableRows(page: Page): Promise<string[][]> {
  return page.$$eval("main table", (tables) =>
    tables.map((table) =>
      [...(table as HTMLTableElement).tBodies].flatMap((body) =>
        [...body.rows].map((row) => (row.textContent ?? "").replace(/\s+/g, " ").trim()),
      ),
    ),
  );
}
