// Engine versions compared as strings: every number zero-padded, so "b6000" > "b987" and
// "0.10.2" > "0.9.1" hold for plain string comparison in SQL (moderators' version ranges).

export function versionKey(version: string): string | null {
  const numbers = version.match(/\d+/g);
  if (!numbers) return null;
  return numbers.map((n) => n.replace(/^0+(?=\d)/, "").padStart(10, "0")).join(".");
}
