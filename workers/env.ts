import type { Envelope } from "../schema/signing.ts";

export interface Env {
  DB: D1Database;
  /** The site's static files (the 404 page, scripts, the stylesheet); absent where the API runs alone. */
  ASSETS?: Fetcher;
  /** Origin used in the URLs the API hands out; empty means "the origin the request came to". */
  PUBLIC_URL: string;
  /** Bearer token for the moderation routes (a Worker secret; unset: moderation is off). */
  ADMIN_TOKEN?: string;
  RATE_LIMIT_IP?: RateLimit;
  RATE_LIMIT_KEY?: RateLimit;
}

export type { Database } from "./db/database.ts";

import type { Database } from "./db/database.ts";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    db: Database;
    /** Set by the signed-envelope middleware once the signature checks out. */
    envelope: Envelope;
    deviceId: string;
    /** The envelope's canonical JSON, made once from the payload's that verification made. */
    canonical: string;
    /**
     * Set by a POST that leaves the data version as it is: one that stored nothing (a dry run, a
     * bundle already stored), or one that bumped it in its own write batch.
     */
    unchanged: boolean;
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
