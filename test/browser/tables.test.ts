// The leaderboard tables in Chromium: sorting and filtering as the site's script adds them, and the
// same rows without JavaScript.
//
// The DOM contract (implemented in site/): a sortable table is `<table data-sortable>`; its sortable
// `<th>` carry `data-sort-key` and `aria-sort="none|ascending|descending"` and hold a
// `<button type="button">` the script adds; numeric cells carry `data-value`; the script adds an
// `<input type="search" data-table-filter>` above each sortable table, and filtering hides the body
// rows that do not match.
import type { BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browser, newContext, suite, tableRows, visit } from "../support/browser.ts";

/** The pages with leaderboard tables: a hardware board (ranked and apart), a model page (grouped), the home page. */
function tablePages(): string[] {
  const s = suite();
  return [`/hardware/${s.hardwareSlug}/`, `/models/${s.modelSlug}/`, "/"];
}

interface RowValue {
  /** The row's data-value in the sorted column; null when the cell has none (no figure). */
  value: number | null;
  text: string;
}

/** Per body, the run rows (not group headings or reason lines spanning the table) and their value in `column`. */
async function columnValues(table: Locator, column: number): Promise<RowValue[][]> {
  return table.evaluate((t, col) => {
    return [...(t as HTMLTableElement).tBodies].map((body) =>
      [...body.rows]
        .filter((row) => [...row.cells].every((cell) => cell.colSpan <= 1))
        .map((row) => {
          const raw = row.cells[col]?.getAttribute("data-value");
          const value = raw === null || raw === undefined || raw === "" ? null : Number(raw);
          return { value, text: (row.textContent ?? "").replace(/\s+/g, " ").trim() };
        }),
    );
  }, column);
}

function isSorted(values: number[], direction: "ascending" | "descending"): boolean {
  return values.every(
    (v, i) => i === 0 || (direction === "ascending" ? (values[i - 1] as number) <= v : (values[i - 1] as number) >= v),
  );
}

async function firstSortableTable(page: Page, path: string): Promise<Locator> {
  const tables = page.locator("table[data-sortable]");
  const count = await tables.count();
  if (count === 0) throw new Error(`feature not there yet: ${path} has no <table data-sortable>`);
  return tables.first();
}

describe("sortable, filterable tables", () => {
  let context: BrowserContext;
  let noJs: BrowserContext;

  beforeAll(async () => {
    context = await newContext();
    noJs = await newContext({ javaScriptEnabled: false });
  });

  afterAll(async () => {
    await (await browser()).close();
  });

  it("marks every leaderboard table sortable, each sortable header with a key, an aria-sort and a button", async () => {
    for (const path of tablePages()) {
      const { page, errors } = await visit(context, path);
      // Leaderboard tables are those listing runs (a chart's data table beside them need not sort).
      const leaderboards = await page.$$eval("main table", (ts) =>
        ts.filter((t) => t.querySelector('tbody a[href^="/runs/"]')).map((t) => t.hasAttribute("data-sortable")),
      );
      const sortable = await page.locator("table[data-sortable]").count();
      if (sortable === 0) throw new Error(`feature not there yet: ${path} has no <table data-sortable>`);
      expect(leaderboards.length, `${path} has leaderboard tables`).toBeGreaterThan(0);
      expect(leaderboards, `${path}: every leaderboard table is sortable`).not.toContain(false);
      const headers = await page.$$eval("table[data-sortable]", (ts) =>
        ts.map((t) =>
          [...t.querySelectorAll("th[data-sort-key]")].map((th) => ({
            key: th.getAttribute("data-sort-key"),
            ariaSort: th.getAttribute("aria-sort"),
            buttons: th.querySelectorAll('button[type="button"]').length,
          })),
        ),
      );
      for (const [i, table] of headers.entries()) {
        expect(table.length, `${path} table ${i} has sortable headers`).toBeGreaterThan(0);
        for (const th of table) {
          expect(th.key, `${path}: data-sort-key`).toMatch(/\S/);
          expect(["none", "ascending", "descending"], `${path}: aria-sort of ${th.key}`).toContain(th.ariaSort);
          expect(th.buttons, `${path}: the ${th.key} header holds one <button type="button">`).toBe(1);
        }
      }
      // Numeric cells carry their value: the decode column has a number for every run that has one.
      const numeric = await page.$$eval("table[data-sortable] td.num", (cells) =>
        cells.map((c) => ({ text: (c.textContent ?? "").trim(), value: c.getAttribute("data-value") })),
      );
      for (const cell of numeric) {
        if (/\d/.test(cell.text) && cell.value !== null && cell.value !== "") {
          expect(Number.isFinite(Number(cell.value)), `${path}: data-value ${cell.value} of "${cell.text}"`).toBe(true);
        }
      }
      expect(
        numeric.filter((c) => /\d/.test(c.text) && c.value === null),
        `${path}: numeric cells without data-value`,
      ).toEqual([]);
      expect(errors, path).toEqual([]);
      await page.close();
    }
  });

  it("sorts a hardware leaderboard by a numeric column both ways, keeping each run's row whole", async () => {
    const path = `/hardware/${suite().hardwareSlug}/`;
    const { page, errors } = await visit(context, path);
    const table = await firstSortableTable(page, path);
    const before = await columnValues(table, 0);
    const rowCount = before.flat().length;
    expect(rowCount, `${path} has rows to sort`).toBeGreaterThan(2);

    // The decode column, found by its header text, whatever its key.
    const header = table.locator("th[data-sort-key]", { hasText: /decode/i }).first();
    expect(await header.count(), `${path}: a sortable Decode header`).toBe(1);
    const column = await header.evaluate((th) => (th as HTMLTableCellElement).cellIndex);
    const button = header.locator('button[type="button"]');

    const seen = new Set<string>();
    for (let click = 0; click < 2; click++) {
      await button.click();
      const direction = await header.getAttribute("aria-sort");
      expect(["ascending", "descending"], `aria-sort after click ${click + 1}`).toContain(direction);
      seen.add(direction as string);
      // Only one column is sorted at a time.
      const others = await table
        .locator("th[data-sort-key]")
        .evaluateAll(
          (ths, me) =>
            ths.filter((th) => (th as HTMLTableCellElement).cellIndex !== me).map((th) => th.getAttribute("aria-sort")),
          column,
        );
      expect(
        others.every((s) => s === "none"),
        `other headers after sorting: ${others.join(",")}`,
      ).toBe(true);
      for (const body of await columnValues(table, column)) {
        const values = body.map((r) => r.value).filter((v): v is number => v !== null);
        expect(isSorted(values, direction as "ascending" | "descending"), `${direction}: ${values.join(", ")}`).toBe(
          true,
        );
      }
      // The same rows, reordered: nothing lost, nothing duplicated.
      const after = (await columnValues(table, 0)).flat().map((r) => r.text);
      expect([...after].sort()).toEqual(
        before
          .flat()
          .map((r) => r.text)
          .sort(),
      );
    }
    expect([...seen].sort(), "two clicks sort both ways").toEqual(["ascending", "descending"]);
    expect(errors, path).toEqual([]);
    await page.close();
  });

  it("sorts by a text column (the model name) too", async () => {
    const path = `/hardware/${suite().hardwareSlug}/`;
    const { page } = await visit(context, path);
    const table = await firstSortableTable(page, path);
    const header = table.locator("th[data-sort-key]", { hasText: /^\s*model\s*$/i }).first();
    expect(await header.count(), `${path}: a sortable Model header`).toBe(1);
    const column = await header.evaluate((th) => (th as HTMLTableCellElement).cellIndex);
    await header.locator('button[type="button"]').click();
    const direction = (await header.getAttribute("aria-sort")) as "ascending" | "descending";
    const names = await table.evaluate((t, col) => {
      return [...(t as HTMLTableElement).tBodies].flatMap((body) =>
        [...body.rows]
          .filter((row) => [...row.cells].every((cell) => cell.colSpan <= 1))
          .map((row) => (row.cells[col]?.textContent ?? "").trim()),
      );
    }, column);
    const expected = [...names].sort((a, b) => a.localeCompare(b, "en", { sensitivity: "base", numeric: true }));
    if (direction === "descending") expected.reverse();
    expect(names).toEqual(expected);
    await page.close();
  });

  it("adds a search filter above each sortable table that hides the rows that do not match", async () => {
    const path = `/hardware/${suite().hardwareSlug}/`;
    const { page, errors } = await visit(context, path);
    const table = await firstSortableTable(page, path);
    const placement = await page.evaluate(() => {
      const tables = [...document.querySelectorAll("table[data-sortable]")];
      const filters = [...document.querySelectorAll('input[type="search"][data-table-filter]')];
      // Each table has a filter of its own before it, and after the table before it.
      return tables.map((t, i) => {
        const previous = tables[i - 1];
        return filters.some(
          (f) =>
            Boolean(f.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING) &&
            (!previous || Boolean(previous.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_FOLLOWING)),
        );
      });
    });
    expect(placement, `${path}: a <input type="search" data-table-filter> above each sortable table`).not.toContain(
      false,
    );
    expect(placement.length).toBeGreaterThan(0);

    const filter = page.locator('input[type="search"][data-table-filter]').first();
    const accessibleName = await filter.evaluate(
      (input) =>
        input.getAttribute("aria-label") ||
        (input as HTMLInputElement).labels?.[0]?.textContent ||
        input.getAttribute("aria-labelledby") ||
        "",
    );
    expect(accessibleName.trim(), "the filter has a label").not.toBe("");

    const visibleRows = () =>
      table.evaluate((t) =>
        [...(t as HTMLTableElement).tBodies]
          .flatMap((body) => [...body.rows])
          .filter((row) => [...row.cells].every((cell) => cell.colSpan <= 1))
          .map((row) => ({ text: (row.textContent ?? "").replace(/\s+/g, " ").trim(), shown: row.checkVisibility() })),
      );
    const all = await visibleRows();
    expect(all.every((r) => r.shown)).toBe(true);
    // A word from one row's model name that not every row has.
    const modelNames = await table.locator("tbody th[scope=row] a, tbody td a[href^='/models/']").allTextContents();
    const word = modelNames
      .flatMap((n) => n.split(/\s+/))
      .find((w) => w.length >= 3 && all.some((r) => !r.text.toLowerCase().includes(w.toLowerCase())));
    expect(word, `a word that tells ${path}'s rows apart in ${modelNames.join(" | ")}`).toBeDefined();

    await filter.fill(word as string);
    const filtered = await visibleRows();
    const matching = filtered.filter((r) => r.text.toLowerCase().includes((word as string).toLowerCase()));
    expect(matching.length).toBeGreaterThan(0);
    expect(
      filtered.filter((r) => r.shown).map((r) => r.text),
      `rows shown for "${word}"`,
    ).toEqual(matching.map((r) => r.text));

    await filter.fill("no run is called this 9f8e7d");
    expect((await visibleRows()).filter((r) => r.shown)).toEqual([]);

    await filter.fill("");
    expect(
      (await visibleRows()).every((r) => r.shown),
      "clearing the filter shows every row again",
    ).toBe(true);
    expect(errors, path).toEqual([]);
    await page.close();
  });

  it("shows the same table rows without JavaScript, and no script-only controls", async () => {
    for (const path of tablePages()) {
      const withJs = await visit(context, path);
      const withoutJs = await visit(noJs, path);
      const rowsJs = await tableRows(withJs.page);
      const rowsNoJs = await tableRows(withoutJs.page);
      expect(rowsNoJs.flat().length, `${path} has table rows`).toBeGreaterThan(0);
      expect(rowsNoJs, path).toEqual(rowsJs);
      expect(await withoutJs.page.locator("[data-table-filter]").count(), `${path}: no filter without JS`).toBe(0);
      expect(await withoutJs.page.locator("thead th button").count(), `${path}: no sort buttons without JS`).toBe(0);
      await withJs.page.close();
      await withoutJs.page.close();
    }
  });
});
