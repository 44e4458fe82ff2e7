// Constants and types shared by the browser suite's global setup (Node, outside the test workers)
// and its tests: nothing here may import vitest.

/** Installed by CI with apt (`.ci/run`); nothing is downloaded. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
/** This machine's network is closed: without the background-networking flags Chromium's calls home are refused noisily. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** What would run if a page put submitted text into its HTML unescaped. */
export const PAYLOADS = {
  script: "<script>window.__xss=1</script>",
  img: '<img src=x onerror="window.__xss=1">',
  svg: '"><svg onload="window.__xss=1">',
  javascriptUrl: "javascript:window.__xss=1",
  httpUrl: 'https://example.com/?q="><svg onload="window.__xss=1">',
} as const;

export interface HostileRun {
  id: string;
  /** The hardware and model names the bundle gave (payloads). */
  board: string;
  model: string;
  hardwareSlug: string;
  modelSlug: string;
  /** The name the registry filed the model under (its canonical name, derived from the payload). */
  modelName: string;
}

export interface BrowserSuite {
  baseUrl: string;
  wsEndpoint: string;
  /** Run id per seed file of demo/seeds/. */
  seedIds: Record<string, string>;
  hostile: HostileRun[];
  /** What the registry answered a bundle whose source URL is a javascript: URL. */
  jsUrlStatus: number;
  /** The hardware with the most runs, the model on the most hardware. */
  hardwareSlug: string;
  modelSlug: string;
  /** A hardware × model of the seeds run more than once (it has a history page). */
  history: { hardwareSlug: string; modelSlug: string };
  plainRunId: string;
  /** Seed 003 (a sweep of 31 configurations) and seed 004 (a soak). */
  sweepRunId: string;
  soakRunId: string;
  /** The real H200 run (every layer on the GPU) and its partial-offload reshaping (24 of 28 layers). */
  gpuRunId: string;
  gpuPartialRunId: string;
}
