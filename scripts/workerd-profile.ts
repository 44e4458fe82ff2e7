// A CPU profile of the registry's Worker taken inside workerd, through its inspector (the Chrome
// DevTools protocol), and its time shared out among the parts of a request. workerd runs every
// isolate of the process on one thread, so the time a binding call spends in the local D1 or the
// rate limiter's isolate shows up in the calling frame: the shares cover the whole request.

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A part of a request: the first rule (from the innermost frame out) that a sample's stack matches. */
export interface ProfileRule {
  part: string;
  /** Whether this frame belongs to the part; `stack` is every function name from the frame outwards. */
  matches: (frame: CallFrame, stack: readonly string[]) => boolean;
}

const ours = (f: CallFrame) => /\/(chunks\/)?[\w.-]+\.mjs$/.test(f.url) || f.url.endsWith("entry.mjs");
const DRIZZLE_BUILD =
  /^(sqlToQuery|buildQueryFromSourceParams|mergeQueries|buildSelectQuery|buildInsertQuery|buildUpdateQuery|toSQL|_prepare|getSQL|buildSelection|is|SQL|sql|inArray|eq|and|or)$/;
const RESPONSE =
  /^(Response|Headers|createResponseInstance|#newResponse|set res|get res|setHeaders|json|body|text|header)$/;

/** What a submission, a leaderboard read or a badge is made of. */
export const REQUEST_PARTS: ProfileRule[] = [
  { part: "rate limiter calls", matches: (f) => /ratelimit|rate-limit/.test(f.url) },
  {
    part: "D1: the batch that reads what the decision needs",
    matches: (f, stack) => f.url.includes("d1-api") && stack.includes("prepareRuns"),
  },
  {
    part: "D1: the batch that writes the run, its cell, summaries, version",
    matches: (f, stack) => f.url.includes("d1-api") && stack.includes("storeRuns"),
  },
  {
    part: "D1: other calls, and results read after an await (whose caller the profile no longer sees)",
    matches: (f) => f.url.includes("d1-api"),
  },
  {
    part: "canonical JSON, SHA-256, Ed25519 verification",
    matches: (f) => /^(verifyCanonical|verifyEnvelope|canonicalJson|sha256Hex|runIdOfCanonical)$/.test(f.functionName),
  },
  { part: "validation (zod)", matches: (f) => /_zod|^safeParse$/.test(f.functionName) },
  { part: "SQL text built by drizzle", matches: (f) => DRIZZLE_BUILD.test(f.functionName) },
  { part: "badge SVG and leaderboard rows", matches: (f) => /badge|Badge|rowRecords|leaderboard/.test(f.functionName) },
  {
    part: "decision: summary, plausibility, ids",
    matches: (f) => /^(prepareRuns|summarize|plausibilityFlags|storeRuns)$/.test(f.functionName),
  },
  { part: "Response and header objects (hono's context)", matches: (f) => RESPONSE.test(f.functionName) },
  { part: "routing, middleware and the rest of the Worker's JS", matches: (f) => ours(f) },
];

const OUTSIDE = "runtime outside the Worker's JS (HTTP, isolate entry, GC)";

/** Each part's share of the profiled time (0–1), largest first, from the innermost matching frame. */
export function shares(profile: CpuProfile, rules: readonly ProfileRule[]): Array<{ part: string; share: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = partOf.get(id);
    if (known) return known;
    const frames: CallFrame[] = [];
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const node = byId.get(x);
      if (node) frames.push(node.callFrame);
    }
    const names = frames.map((f) => f.functionName);
    let part = OUTSIDE;
    search: for (let i = 0; i < frames.length; i++) {
      for (const rule of rules) {
        if (rule.matches(frames[i] as CallFrame, names.slice(i))) {
          part = rule.part;
          break search;
        }
      }
    }
    partOf.set(id, part);
    return part;
  };
  const time = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(id);
    // Idle: the isolate waiting for the next request (the client's own time), not the request's.
    if (node?.callFrame.functionName === "(idle)") return;
    time.set(classify(id), (time.get(classify(id)) ?? 0) + dt);
    total += dt;
  });
  return [...time].map(([part, t]) => ({ part, share: total ? t / total : 0 })).sort((a, b) => b.share - a.share);
}

/** A profile of the user Worker while `work` runs, sampled every `intervalUs` microseconds. */
export async function profileWhile(
  inspectorPort: number,
  work: () => Promise<void>,
  intervalUs = 50,
): Promise<CpuProfile> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as Array<{
    id: string;
    title: string;
    webSocketDebuggerUrl: string;
  }>;
  // Miniflare names the user Worker's isolate core:user:<name>; its own helpers are core:….
  const target = targets.find((t) => t.id.startsWith("core:user:"));
  if (!target) throw new Error(`no user Worker among the inspector's targets: ${targets.map((t) => t.id).join(", ")}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let next = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  try {
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: intervalUs });
    await send("Profiler.start");
    await work();
    const { profile } = (await send("Profiler.stop")) as { profile: CpuProfile };
    return profile;
  } finally {
    socket.close();
  }
}
