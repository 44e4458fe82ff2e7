// What the site sees of the registry API app (workers/index.ts, aliased in astro.config.mjs): a
// Hono app it asks in-process. Only this much is typed here, so the site's program does not take in
// the Worker's own types (its bindings, D1), which clash with the DOM types of the browser scripts.
declare module "@edgebench/registry-api" {
  const api: {
    request(path: string, init: RequestInit | undefined, env: unknown): Response | Promise<Response>;
  };
  export default api;
}
