import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { Envelope } from "../schema/signing.ts";

export interface Env {
  DB: D1Database;
  ASSETS: Fetcher;
  /** Origin used in the URLs the API hands out; empty means "the origin the request came to". */
  PUBLIC_URL: string;
}

export type Database = DrizzleD1Database<Record<string, never>>;

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    db: Database;
    /** Set by the signed-envelope middleware once the signature checks out. */
    envelope: Envelope;
    deviceId: string;
  };
}

type RegistryEnv = Env;

// Types for `import { env, exports } from "cloudflare:workers"`, used by the workerd tests.
declare global {
  namespace Cloudflare {
    interface Env extends RegistryEnv {}
    interface GlobalProps {
      mainModule: typeof import("./index.ts");
    }
  }
}
