import type { Envelope, PrivateKeyJwk } from "../../schema/signing.ts";

/** What the Node-side global setup hands to the workerd tests (as JSON in the NODE_SIGNED binding). */
export interface NodeSigned {
  privateKey: PrivateKeyJwk;
  /** The seed bundles of demo/seeds/, signed. */
  seeds: Array<{ file: string; envelope: Envelope }>;
  /** A bundle built by the test factory, signed: interop does not hang on the seed files alone. */
  sample: Envelope;
  /** The real H200 bundle of test/fixtures/gpu/ (unsigned), dated now: tests sign it as they need. */
  gpuSample: Record<string, unknown>;
  /** Bundles the real importers made in Node from files in test/fixtures/ (unsigned), by name. */
  imported: Record<string, Array<Record<string, unknown>>>;
}
