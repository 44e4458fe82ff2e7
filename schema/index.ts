// The contract: everything the CLI, the Worker and the site share.
export * from "./api.ts";
export * from "./bundle.ts";
export * from "./issues.ts";
export * from "./signing.ts";
export * from "./slug.ts";
export * from "./summary.ts";
