// Signed key records: rotation (the old key names the new one), revocation, and retraction of a run
// by the key that signed it.
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

export const keysRoute = new Hono<AppEnv>();
