// The OpenAPI 3.1 document, generated from the zod schemas in workers/openapi/paths.ts.
import { createDocument } from "zod-openapi";
import { COMPONENT_SCHEMAS, paths } from "./paths.ts";

export type OpenApiDocument = ReturnType<typeof createDocument>;

/** Generating walks every schema; the result never changes while the Worker runs, so it is made once. */
let cached: OpenApiDocument | undefined;

export function openApiDocument(): OpenApiDocument {
  cached ??= createDocument(
    {
      openapi: "3.1.0",
      info: {
        title: "edgebench registry API",
        version: "1",
        description:
          "A public registry of signed on-device LLM benchmark results. Every non-2xx answer is " +
          "`{ error: { code, message, details?, requestId } }`. Reads are public; writes are signed " +
          "envelopes (Ed25519 over RFC 8785 canonical JSON), or moderation with a bearer token.",
        license: { name: "MIT", identifier: "MIT" },
      },
      paths,
      components: {
        schemas: COMPONENT_SCHEMAS,
        securitySchemes: {
          adminToken: { type: "http", scheme: "bearer", description: "The registry's ADMIN_TOKEN secret" },
        },
      },
    },
    // Free-form JSON (envelope payloads, audit details) is `unknown` in zod: an empty schema is right.
    { allowEmptySchema: { unknown: true } },
  );
  return cached;
}
