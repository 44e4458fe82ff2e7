// The memory the Worker keeps between requests (pages, charts, glances) stays within its budget and
// forgets the least recently used first.
import { describe, expect, it } from "vitest";
import { BoundedMap } from "../../schema/bounded-map.ts";

describe("BoundedMap", () => {
  it("forgets the least recently used entry past its count", () => {
    const map = new BoundedMap<string, number>(2);
    map.set("a", 1);
    map.set("b", 2);
    expect(map.get("a")).toBe(1); // a is now the most recent
    map.set("c", 3);
    expect([map.has("a"), map.has("b"), map.has("c")]).toEqual([true, false, true]);
    expect(map.size).toBe(2);
  });

  it("counts sizes against a byte budget, replacing an entry's size when it is set again", () => {
    const map = new BoundedMap<string, string>(10, (v) => v.length);
    map.set("a", "xxxx");
    map.set("b", "yyyy");
    map.set("a", "zz"); // 2 + 4 bytes
    map.set("c", "www"); // 9 bytes: everything fits
    expect([map.has("a"), map.has("b"), map.has("c")]).toEqual([true, true, true]);
    map.set("d", "vvvv"); // 13 bytes: b, the least recent, goes first, then 9 fit
    expect([map.has("a"), map.has("b"), map.has("c"), map.has("d")]).toEqual([true, false, true, true]);
  });

  it("keeps the newest entry even when it alone is over the budget", () => {
    const map = new BoundedMap<string, string>(3, (v) => v.length);
    map.set("a", "x");
    map.set("big", "xxxxxx");
    expect([map.has("a"), map.get("big")]).toEqual([false, "xxxxxx"]);
  });
});
