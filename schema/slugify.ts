// How any name becomes a URL key: lower case, ASCII, hyphens; dots kept between digits (qwen2.5).

const MAX_SLUG = 80;

export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/\+/g, "-plus")
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/\.(?![0-9])|(?<![0-9])\./g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, MAX_SLUG)
    .replace(/-$/, "");
  return slug || "unnamed";
}

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9.-]{0,78}[a-z0-9])?$/;
