/** The edgebench version that goes into every bundle's provenance. */
export const VERSION = "0.1.0";
