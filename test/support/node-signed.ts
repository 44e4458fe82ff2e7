import type { Envelope, PrivateKeyJwk } from "../../schema/signing.ts";

/** What the Node-side global setup hands to the workerd tests (as JSON in the NODE_SIGNED binding). */
export interface NodeSigned {
  privateKey: PrivateKeyJwk;
  /** The seed bundles of demo/seeds/, signed. */
  seeds: Array<{ file: string; envelope: Envelope }>;
  /** A bundle built by the test factory, signed: interop does not hang on the seed files alone. */
  sample: Envelope;
}
