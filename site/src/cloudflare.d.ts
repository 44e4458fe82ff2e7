// The Workers runtime as the site's server code uses it (the adapter documents `cloudflare:workers`):
// typed here, not with @cloudflare/workers-types, whose globals clash with the browser scripts' DOM.
declare module "cloudflare:workers" {
  export const env: {
    PUBLIC_URL?: string;
    DB?: {
      prepare(sql: string): { first<T>(): Promise<T | null> };
    };
  };
  export function waitUntil(promise: Promise<unknown>): void;
}

interface CacheStorage {
  /** The Workers runtime's default cache (the Cache API of the data center that answers). */
  readonly default: Cache;
}
