// The id of this build (astro.config.mjs defines it): part of every cache key, so a deployment never
// serves a page or a chart the code before it rendered.
declare const __EDGEBENCH_BUILD_ID__: string;

export const BUILD_ID: string = __EDGEBENCH_BUILD_ID__;
