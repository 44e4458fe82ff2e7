// Every page type in a real Chromium: it loads with its status and the site's CSP, logs no console error and throws
// nothing, and is screenshotted at 1280 px and at 360 px (test-artifacts/screenshots/), where nothing
// may overflow the viewport sideways. Compare, history and search are features still being built:
// their tests fail, saying so, until the pages exist. A GPU run's page (the real H200 bundle, and a
// partial offload of it) is read for what a GPU run must say: the GPU, its host, the share offloaded,
// VRAM and host memory apart, the roofline's source and the names as the bundle gave them.
import type { BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunDetail, type RunRow } from "../../schema/api.ts";
import { Bundle } from "../../schema/bundle.ts";
import { rooflineBound } from "../../schema/roofline.ts";
import { formatBytes, formatOffload } from "../../site/src/lib/format.ts";
import { browser, newContext, pageTypes, resolvePath, screenshot, suite, visit } from "../support/browser.ts";

// One connection to the suite's Chromium for the whole file, closed after every describe below.
afterAll(async () => {
  await (await browser()).close();
});

describe("every page type, in Chromium", () => {
  let wide: BrowserContext;
  let narrow: BrowserContext;

  beforeAll(async () => {
    wide = await newContext();
    narrow = await newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  });

  for (const type of pageTypes()) {
    const title = `${type.name}${type.feature ? ` (${type.feature})` : ""}`;

    it(`${title}: loads with no console error, screenshot at 1280 px`, async () => {
      const path = await resolvePath(type);
      const { page, status, errors, csp } = await visit(wide, path);
      try {
        const expected = type.status ?? 200;
        if (type.feature && status === 404) throw new Error(`feature not there yet: GET ${path} answered 404`);
        expect(status, path).toBe(expected);
        // Served under the site's policy (site/public/_headers), rendered on demand or not, and nothing on
        // the page broke under it: a blocked script or style would be a console error below.
        expect(csp, path).toMatch(/^default-src 'self'; script-src 'self'; /);
        expect(csp, path).toContain("frame-ancestors 'none'");
        expect(await page.locator("h1").count(), `${path} has a heading`).toBeGreaterThan(0);
        await screenshot(page, `${type.name}-1280.png`);
        expect(errors, path).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it(`${title}: fits 360 px without sideways overflow, screenshot at 360 px`, async () => {
      const path = await resolvePath(type);
      const { page, status, errors } = await visit(narrow, path);
      try {
        if (type.feature && status === 404) throw new Error(`feature not there yet: GET ${path} answered 404`);
        await screenshot(page, `${type.name}-360.png`);
        const overflow = await page.evaluate((viewport) => {
          // Name what sticks out (not what scrolls inside its own box), so a failure says where to look.
          const scrolls = (el: Element) => {
            for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
              if (getComputedStyle(a).overflowX !== "visible") return true;
            }
            return false;
          };
          const culprits = [...document.querySelectorAll("body *")]
            .filter((el) => el.getBoundingClientRect().right > viewport + 0.5 && !scrolls(el))
            .slice(0, 5)
            .map((el) => {
              const cls = typeof el.className === "string" && el.className ? `.${el.className.split(" ")[0]}` : "";
              return `${el.tagName.toLowerCase()}${cls} (${Math.round(el.getBoundingClientRect().right)} px)`;
            });
          return { width: document.documentElement.scrollWidth, culprits };
        }, 360);
        expect(
          overflow.width,
          `${path} at 360 px is ${overflow.width} px wide: ${overflow.culprits.join(", ")}`,
        ).toBeLessThanOrEqual(360);
        expect(errors, path).toEqual([]);
      } finally {
        await page.close();
      }
    });
  }
});

/** The value (`<dd>`) of the first label/value line labelled exactly `label` under `scope`. */
function factValue(page: Page, label: string, scope = "main"): Locator {
  return page
    .locator(`${scope} dl.facts > dt`)
    .filter({ hasText: new RegExp(`^\\s*${label.replace(/[()]/g, "\\$&")}\\s*$`) })
    .first()
    .locator("xpath=following-sibling::dd[1]");
}

async function runDetail(id: string): Promise<{ run: RunRow; bundle: Bundle }> {
  const detail = RunDetail.parse(await (await fetch(`${suite().baseUrl}/v1/runs/${id}`)).json());
  return { run: detail.run, bundle: Bundle.parse(detail.envelope.payload) };
}

describe("a GPU run's page, in Chromium", () => {
  let context: BrowserContext;

  beforeAll(async () => {
    context = await newContext();
  });

  for (const which of ["gpuRunId", "gpuPartialRunId"] as const) {
    it(`${which}: names the GPU and its host, the offload, VRAM and RSS apart, the roofline's source and the names as reported`, async () => {
      const id = suite()[which];
      const { run, bundle } = await runDetail(id);
      expect(run.hardwareKind, "filed under its GPU").toBe("gpu");
      expect(run.hardwareName).toMatch(/NVIDIA H200/);
      if (which === "gpuPartialRunId") {
        // Named as tools print them, filed under canonical names: the page must show both.
        expect(run.sourceHardwareName).not.toBe(run.hardwareName);
        expect(run.sourceModelName).not.toBe(run.modelName);
      }
      const path = `/runs/${id}/`;
      const { page, errors } = await visit(context, path);
      try {
        const hardware = factValue(page, "Hardware");
        expect(await hardware.locator(`a[href="/hardware/${run.hardwareSlug}/"]`).textContent()).toBe(run.hardwareName);
        expect(await hardware.textContent()).toContain("GPU");
        if (run.sourceHardwareName !== run.hardwareName) {
          expect(await hardware.textContent()).toContain(`as reported: ${run.sourceHardwareName}`);
        }

        const host = (await factValue(page, "Host").textContent()) ?? "";
        expect(host, "the host CPU").toContain("Intel Xeon Processor");
        expect(host, "the host RAM").toContain(`${formatBytes(run.hostRamBytes)} RAM`);

        const offload = (await factValue(page, "GPU offload").textContent()) ?? "";
        expect(offload).toContain(formatOffload(run.gpuLayers, run.modelLayers) ?? "(none)");
        if (which === "gpuPartialRunId") expect(offload).toContain("24 / 28 layers on the GPU");

        const model = factValue(page, "Model");
        expect(await model.locator(`a[href="/models/${run.modelSlug}/"]`).textContent()).toBe(run.modelName);
        const modelText = (await model.textContent()) ?? "";
        if (run.sourceModelName !== run.modelName) expect(modelText).toContain(`as reported: ${run.sourceModelName}`);
        if (bundle.model.fileName) expect(modelText).toContain(`file ${bundle.model.fileName}`);

        // Host memory and VRAM are two figures, never one sum.
        const rss = (await factValue(page, "Peak host memory (RSS)").textContent()) ?? "";
        const vram = (await factValue(page, "Peak VRAM").textContent()) ?? "";
        expect(run.peakMemoryBytes).not.toBeNull();
        expect(run.peakVramBytes).not.toBeNull();
        expect(rss).toContain(formatBytes(run.peakMemoryBytes, { exact: true }));
        expect(vram).toContain(formatBytes(run.peakVramBytes, { exact: true }));
        const sum = formatBytes((run.peakMemoryBytes ?? 0) + (run.peakVramBytes ?? 0), { exact: true });
        expect(await page.locator("main").textContent()).not.toContain(sum);

        // The registry's bound, with a link to where each catalog figure comes from.
        const { bound } = rooflineBound(bundle);
        expect(bound, "the H200 is in the accelerator catalog").not.toBeNull();
        const urls = (bound?.memories ?? []).flatMap((m) => (m.url ? [m.url] : []));
        expect(urls.length, "a catalog figure has a public source").toBeGreaterThan(0);
        const links = await page
          .locator("#roofline ~ .table-wrap a.source-link")
          .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
        for (const url of urls) expect(links).toContain(new URL(url).href);
        expect(await factValue(page, "Decode upper bound").textContent()).toContain("tok/s");

        if (which === "gpuPartialRunId") {
          const engine = (await factValue(page, "Decode (engine)").textContent()) ?? "";
          expect(engine).toContain("llama.cpp's own time per generated token, the figure llama-bench tg reports");
          const delivered = (await factValue(page, "Decode (delivered)").textContent()) ?? "";
          expect(delivered).toContain(
            "tokens as the application receives them, sampling and runtime overhead included",
          );
          // A partial offload reads both memories: each with its share of the weights.
          expect(await page.locator("#roofline ~ .table-wrap th", { hasText: "Share of the weights" }).count()).toBe(1);
          // The slow first pp512 repetition is marked in words, and the warm-up runs are counted.
          expect(await page.locator("#measurements ~ .table-wrap .outlier", { hasText: "(outlier)" }).count()).toBe(1);
          expect(
            await page.locator("#measurements ~ .table-wrap td", { hasText: "1 warm-up run" }).count(),
          ).toBeGreaterThan(0);
        } else {
          // Written before bundles said how decode was timed: no claim of engine timing.
          expect(await page.locator("main dl.facts > dt", { hasText: "Decode (engine)" }).count()).toBe(0);
          expect(await factValue(page, "Decode").textContent()).toContain("as reported by edgebench");
        }
        await screenshot(page, `${which === "gpuRunId" ? "run-gpu" : "run-gpu-partial"}-facts-1280.png`);
        expect(errors, path).toEqual([]);
      } finally {
        await page.close();
      }
    });
  }

  it("shows a partial offload's share and a VRAM column on the GPU's leaderboard, and marks it a GPU", async () => {
    const { run } = await runDetail(suite().gpuPartialRunId);
    const path = `/hardware/${run.hardwareSlug}/`;
    const { page, errors } = await visit(context, path);
    try {
      expect(await page.locator("h1 .tag").textContent()).toBe("GPU");
      const row = page.locator(`main tr:has(a[href="/runs/${run.id}/"])`);
      expect(await row.textContent()).toContain("24 / 28 layers on GPU");
      expect(await page.locator("main th[data-sort-key=vram]").count()).toBeGreaterThan(0);
      expect(await page.locator("main th[data-sort-key=memory]").first().textContent()).toContain("Peak host memory");
      expect(errors, path).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
