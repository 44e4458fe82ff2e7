// Every importer, in the order --format auto tries them when two are equally sure.
import type { Importer } from "./types.ts";

export const IMPORTERS: readonly Importer[] = [];
