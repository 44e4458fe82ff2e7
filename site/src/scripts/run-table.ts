// Sorting and filtering for leaderboard tables (`table[data-sortable]`), added on top of HTML that is
// already complete: without this script a reader sees the same rows in leaderboard order. Headers
// with `data-sort-key` get a button; numeric cells sort by their `data-value` (empty = not measured,
// always last). A run's detail row (class "detail") travels with it, and rows ranked apart are sorted
// among themselves after the ranked ones, so sorting never mixes a failed run into the leaderboard.

type Direction = "ascending" | "descending";

/** A run row and the detail row under it, moved and hidden together. */
interface Unit {
  rows: HTMLTableRowElement[];
  apart: boolean;
  /** Leaderboard position, so equal values keep the server's order. */
  index: number;
  text: string;
}

interface TableBody {
  element: HTMLTableSectionElement;
  /** Heading rows (a hardware group's title) that stay on top. */
  heads: HTMLTableRowElement[];
  units: Unit[];
}

const DASH = "—";

function bodiesOf(table: HTMLTableElement): TableBody[] {
  return [...table.tBodies].map((element) => {
    const heads: HTMLTableRowElement[] = [];
    const units: Unit[] = [];
    for (const row of element.rows) {
      const last = units.at(-1);
      if (row.classList.contains("group")) heads.push(row);
      else if (row.classList.contains("detail") && last) last.rows.push(row);
      else units.push({ rows: [row], apart: row.classList.contains("apart"), index: units.length, text: "" });
    }
    // A run matches by its own row's text; its reason line only follows it, so a word in a reason
    // does not bring back a run the reader filtered out.
    for (const unit of units) unit.text = (unit.rows[0]?.textContent ?? "").replace(/\s+/g, " ").toLowerCase();
    return { element, heads, units };
  });
}

/** The value a unit sorts by in a column: a number, a string, or null (not measured, sorted last). */
function sortValue(unit: Unit, column: number): number | string | null {
  const cell = unit.rows[0]?.cells[column];
  if (!cell) return null;
  const raw = cell.dataset.value;
  if (raw !== undefined) {
    if (raw === "") return null;
    const n = Number(raw);
    return Number.isFinite(n) ? n : null;
  }
  const text = (cell.textContent ?? "").trim();
  return text === "" || text === DASH ? null : text.toLowerCase();
}

function compare(a: number | string | null, b: number | string | null, direction: Direction): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const order =
    typeof a === "number" && typeof b === "number"
      ? a - b
      : String(a).localeCompare(String(b), "en", { numeric: true, sensitivity: "base" });
  return direction === "ascending" ? order : -order;
}

function sortTable(table: HTMLTableElement, header: HTMLTableCellElement, direction: Direction): void {
  for (const th of table.querySelectorAll<HTMLTableCellElement>("thead th[data-sort-key]")) {
    th.setAttribute("aria-sort", th === header ? direction : "none");
  }
  const column = header.cellIndex;
  for (const body of bodiesOf(table)) {
    const by = (x: Unit, y: Unit) =>
      compare(sortValue(x, column), sortValue(y, column), direction) || x.index - y.index;
    const ranked = body.units.filter((u) => !u.apart).sort(by);
    const apart = body.units.filter((u) => u.apart).sort(by);
    body.element.append(...body.heads, ...[...ranked, ...apart].flatMap((u) => u.rows));
  }
}

function filterTable(table: HTMLTableElement, query: string, status: HTMLElement): void {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  let total = 0;
  for (const body of bodiesOf(table)) {
    let visible = 0;
    for (const unit of body.units) {
      const match = words.every((w) => unit.text.includes(w));
      for (const row of unit.rows) row.hidden = !match;
      if (match) visible++;
    }
    // A group's heading goes when none of its runs match, so no empty group is left standing.
    for (const head of body.heads) head.hidden = visible === 0;
    shown += visible;
    total += body.units.length;
  }
  status.textContent = words.length === 0 ? "" : `${shown} of ${total} ${total === 1 ? "run" : "runs"}`;
}

function enhance(table: HTMLTableElement): void {
  if (table.dataset.enhanced !== undefined) return;
  table.dataset.enhanced = "";

  for (const th of table.querySelectorAll<HTMLTableCellElement>("thead th[data-sort-key]")) {
    if (!th.hasAttribute("aria-sort")) th.setAttribute("aria-sort", "none");
    const button = document.createElement("button");
    button.type = "button";
    button.append(...th.childNodes);
    button.addEventListener("click", () => {
      // Ascending first, then each click flips; aria-sort is the one record of the state.
      const next: Direction = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      sortTable(table, th, next);
    });
    th.append(button);
  }

  const bar = document.createElement("div");
  bar.className = "table-filter";
  const input = document.createElement("input");
  input.type = "search";
  input.dataset.tableFilter = "";
  input.setAttribute("aria-label", "Filter runs");
  input.placeholder = "Filter runs";
  const status = document.createElement("span");
  status.className = "note";
  status.setAttribute("role", "status");
  input.addEventListener("input", () => filterTable(table, input.value, status));
  bar.append(input, status);
  const wrap = table.closest(".table-wrap") ?? table;
  wrap.before(bar);
}

for (const table of document.querySelectorAll<HTMLTableElement>("table[data-sortable]")) enhance(table);

// A module, so its names stay its own and do not merge with the DOM's globals.
export {};
