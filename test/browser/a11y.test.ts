// Accessibility basics: axe-core on every page type finds no "serious" or "critical" violation.
import AxeBuilder from "@axe-core/playwright";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browser, newContext, pageTypes, resolvePath, visit } from "../support/browser.ts";

describe("accessibility (axe-core)", () => {
  let context: BrowserContext;

  beforeAll(async () => {
    context = await newContext();
  });

  afterAll(async () => {
    await (await browser()).close();
  });

  for (const type of pageTypes()) {
    it(`${type.name}${type.feature ? ` (${type.feature})` : ""}: no serious or critical violation`, async () => {
      const path = await resolvePath(type);
      const { page, status } = await visit(context, path);
      try {
        if (type.feature && status === 404) throw new Error(`feature not there yet: GET ${path} answered 404`);
        const results = await new AxeBuilder({ page }).analyze();
        const severe = results.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => ({
            rule: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
          }));
        expect(severe, path).toEqual([]);
      } finally {
        await page.close();
      }
    });
  }
});
