// The model-card snippets the model page offers: Markdown and HTML badges and the model-index YAML.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { RunRow } from "../../schema/api.ts";
import {
  bestRunPerHardware,
  escapeHtml,
  escapeMarkdownText,
  hardwareBadges,
  htmlSnippet,
  markdownSnippet,
  modelIndex,
  modelIndexYaml,
} from "../../site/src/lib/badges.ts";

const SITE = "https://edgebench.example";

/** A leaderboard row as the API answers it (parsed, so the fixture cannot drift from the contract). */
function row(overrides: Partial<RunRow> & Pick<RunRow, "id" | "hardwareSlug">): RunRow {
  return RunRow.parse({
    hardwareName: overrides.hardwareSlug,
    hardwareKind: "system",
    sourceHardwareName: overrides.hardwareSlug,
    hostCpu: null,
    hostRamBytes: null,
    gpuLayers: null,
    modelLayers: null,
    modelSlug: "qwen3-4b",
    modelName: "Qwen3-4B",
    sourceModelName: "Qwen3-4B",
    quantization: "Q4_K_M",
    parameters: 4_000_000_000,
    engine: "llama.cpp",
    engineVersion: "b6000",
    backend: "cpu",
    decodeTps: 12,
    decodeNGen: 128,
    prefillTps: 41,
    prefillNPrompt: 512,
    ttftMs: 180,
    loadMs: 812,
    peakMemoryBytes: null,
    peakVramBytes: null,
    decodeDeliveredTps: null,
    qualityStatus: "pass",
    qualityReason: null,
    qualityScore: null,
    method: "measured",
    importFormat: null,
    createdAt: "2026-11-01T00:00:00.000Z",
    measuredAt: null,
    url: `http://api.example/runs/${overrides.id}/`,
    deviceId: "device-1",
    receivedAt: "2026-11-01T00:00:01.000Z",
    rankedApart: false,
    flags: [],
    reproduction: "single",
    status: "visible",
    statusReason: null,
    ...overrides,
  });
}

const qwen = { slug: "qwen3-4b", name: "Qwen3-4B" };

describe("bestRunPerHardware", () => {
  it("keeps the first visible row of each hardware, in leaderboard order", () => {
    const rows = [
      row({ id: "r1", hardwareSlug: "jetson-orin-nano", decodeTps: 30 }),
      row({ id: "r2", hardwareSlug: "raspberry-pi-5", decodeTps: 12, status: "retracted", rankedApart: true }),
      row({ id: "r3", hardwareSlug: "raspberry-pi-5", decodeTps: 11 }),
      row({ id: "r4", hardwareSlug: "jetson-orin-nano", decodeTps: 25 }),
      row({ id: "r5", hardwareSlug: "raspberry-pi-5", decodeTps: 40, qualityStatus: "fail", rankedApart: true }),
    ];
    expect(bestRunPerHardware(rows).map((r) => r.id)).toEqual(["r1", "r3"]);
  });
});

describe("Markdown and HTML badges", () => {
  it("link the badge image to the model page on the public origin", () => {
    const [badge] = hardwareBadges(
      SITE,
      qwen,
      [row({ id: "r1", hardwareSlug: "raspberry-pi-5" })],
      new Map([["raspberry-pi-5", "Raspberry Pi 5"]]),
    );
    expect(badge).toMatchObject({
      hardwareName: "Raspberry Pi 5",
      imagePath: "/badge/qwen3-4b/raspberry-pi-5.svg",
      alt: "edgebench: Qwen3-4B on Raspberry Pi 5",
      markdown:
        "[![edgebench: Qwen3-4B on Raspberry Pi 5](https://edgebench.example/badge/qwen3-4b/raspberry-pi-5.svg)](https://edgebench.example/models/qwen3-4b/)",
      html: '<a href="https://edgebench.example/models/qwen3-4b/"><img src="https://edgebench.example/badge/qwen3-4b/raspberry-pi-5.svg" alt="edgebench: Qwen3-4B on Raspberry Pi 5"></a>',
    });
  });

  it("make every Markdown character of a hostile name literal", () => {
    const hostile = "Evil](https://evil.example) <script>alert(1)</script> ![x](y) *b* _i_ `c` &lt;";
    expect(escapeMarkdownText(hostile)).toBe(
      "Evil\\]\\(https://evil.example\\) \\<script\\>alert\\(1\\)\\</script\\> \\!\\[x\\]\\(y\\) \\*b\\* \\_i\\_ \\`c\\` \\&lt;",
    );
    const snippet = markdownSnippet(SITE, qwen, "raspberry-pi-5", hostile);
    // Outside the escaped description there are exactly the image's and the link's own brackets.
    const unescaped = snippet.replace(/\\./g, "");
    expect(unescaped).toBe(
      "[![Evilhttps://evil.example scriptalert1/script xy b i c lt;](https://edgebench.example/badge/qwen3-4b/raspberry-pi-5.svg)](https://edgebench.example/models/qwen3-4b/)",
    );
  });

  it("fold a line break in a name, which would end a Markdown paragraph", () => {
    expect(escapeMarkdownText("Qwen3\n\n# Heading")).toBe("Qwen3 \\# Heading");
  });

  it("escape a hostile name in the HTML attribute", () => {
    const hostile = `"><script>alert(1)</script><img src=x onerror='alert(2)'>`;
    const html = htmlSnippet(SITE, qwen, "raspberry-pi-5", hostile);
    expect(html).toBe(
      '<a href="https://edgebench.example/models/qwen3-4b/"><img src="https://edgebench.example/badge/qwen3-4b/raspberry-pi-5.svg" alt="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#39;alert(2)&#39;&gt;"></a>',
    );
    expect(html).not.toMatch(/<script/i);
    expect(html.match(/</g)).toHaveLength(3);
    expect(escapeHtml("a & b")).toBe("a &amp; b");
  });
});

describe("model-index YAML", () => {
  it("parses back to one result per hardware with unverified metrics and the run as source", () => {
    const rows = [
      row({ id: "run-a", hardwareSlug: "jetson-orin-nano", decodeTps: 30.123, prefillTps: 410.5, ttftMs: 95.27 }),
      row({ id: "run-b", hardwareSlug: "raspberry-pi-5", decodeTps: 12, ttftMs: null, backend: null }),
    ];
    const names = new Map([
      ["jetson-orin-nano", "Jetson Orin Nano"],
      ["raspberry-pi-5", "Raspberry Pi 5"],
    ]);
    const yaml = modelIndexYaml(modelIndex(SITE, qwen, hardwareBadges(SITE, qwen, rows, names)));
    expect(parse(yaml)).toEqual({
      "model-index": [
        {
          name: "Qwen3-4B",
          results: [
            {
              task: { type: "text-generation", name: "On-device text generation" },
              dataset: { type: "edgebench", name: "edgebench Jetson Orin Nano", config: "jetson-orin-nano" },
              metrics: [
                { type: "decode_tps", name: "Decode speed (tokens/s)", value: 30.12, verified: false },
                { type: "prefill_tps", name: "Prefill speed (tokens/s)", value: 410.5, verified: false },
                { type: "ttft_ms", name: "Time to first token (ms)", value: 95.27, verified: false },
                { type: "quality_gates", name: "edgebench quality gates", value: "pass", verified: false },
              ],
              source: { name: "edgebench run (Q4_K_M, llama.cpp cpu)", url: "https://edgebench.example/runs/run-a/" },
            },
            {
              task: { type: "text-generation", name: "On-device text generation" },
              dataset: { type: "edgebench", name: "edgebench Raspberry Pi 5", config: "raspberry-pi-5" },
              // No TTFT was measured: it is left out, not written as 0.
              metrics: [
                { type: "decode_tps", name: "Decode speed (tokens/s)", value: 12, verified: false },
                { type: "prefill_tps", name: "Prefill speed (tokens/s)", value: 41, verified: false },
                { type: "quality_gates", name: "edgebench quality gates", value: "pass", verified: false },
              ],
              source: { name: "edgebench run (Q4_K_M, llama.cpp)", url: "https://edgebench.example/runs/run-b/" },
            },
          ],
        },
      ],
    });
  });

  it("keeps a hostile model or hardware name one string, whatever YAML syntax it holds", () => {
    const model = { slug: "evil", name: "evil: true\n- injected: 1 # comment\n---\n{x: [y]} &a *a !!js/function" };
    const hardwareName = `'"\n  metrics: []`;
    const badges = hardwareBadges(
      SITE,
      model,
      [row({ id: "r1", hardwareSlug: "board", qualityStatus: "fail", rankedApart: true })],
      new Map([["board", hardwareName]]),
    );
    const parsed = parse(modelIndexYaml(modelIndex(SITE, model, badges)));
    expect(parsed["model-index"]).toHaveLength(1);
    expect(parsed["model-index"][0].name).toBe(model.name);
    expect(parsed["model-index"][0].results).toHaveLength(1);
    expect(parsed["model-index"][0].results[0].dataset.name).toBe(`edgebench ${hardwareName}`);
    // A run that failed quality says so next to its speed.
    expect(parsed["model-index"][0].results[0].metrics.at(-1)).toEqual({
      type: "quality_gates",
      name: "edgebench quality gates",
      value: "fail",
      verified: false,
    });
  });
});
