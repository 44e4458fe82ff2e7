// The only module of the CLI that reads process.env.
import envPaths from "env-paths";
import { DEFAULT_REGISTRY_URL } from "../schema/api.ts";

/** Where the device key lives: EDGEBENCH_HOME if set, else the platform's config directory. */
export function configDir(): string {
  return process.env.EDGEBENCH_HOME || envPaths("edgebench", { suffix: "" }).config;
}

export function defaultRegistry(): string {
  return process.env.EDGEBENCH_REGISTRY || DEFAULT_REGISTRY_URL;
}
