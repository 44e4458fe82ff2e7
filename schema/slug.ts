// Slug rules: how hardware and model names become the stable URL keys of leaderboards and pages.
import type { Device, Model } from "./bundle.ts";

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

/** The name a reader would recognise for a device: its board, else its SoC, else its CPU. */
export function hardwareName(device: Device): string {
  return device.board ?? device.soc ?? device.cpu?.model ?? "unknown hardware";
}

// Board names carry revisions and variant words that do not change what the board is.
const HARDWARE_NAME_RULES: Array<[RegExp, string]> = [
  [/\s+rev(ision)?\s*[\d.]+$/i, ""],
  // Every Raspberry Pi 4 and 5 is a "Model B"; the words only split one board into two slugs.
  [/^raspberry pi ([45]) model b\b/i, "raspberry pi $1"],
];

export function hardwareSlug(device: Device): string {
  let name = hardwareName(device).trim();
  for (const [pattern, replacement] of HARDWARE_NAME_RULES) name = name.replace(pattern, replacement);
  return slugify(name);
}

/** A model's slug ignores the owner prefix of a repo-style name; quantization is not part of it. */
export function modelSlug(model: Pick<Model, "name">): string {
  const base = model.name.includes("/") ? model.name.slice(model.name.lastIndexOf("/") + 1) : model.name;
  return slugify(base.replace(/\.(gguf|rkllm|safetensors|onnx|bin)$/i, ""));
}
