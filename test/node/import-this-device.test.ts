// `edgebench import --this-device` on the files that do not say what hardware they ran on: Ollama
// answers, llama-bench markdown tables and llama-server logs. The device each bundle gets is written
// out by hand here (a fingerprint given to the importer), and the command's own run shows what it
// detected before anything is sent.
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importFile } from "../../cli/import/run-import.ts";
import { describeDevice, thisDevice } from "../../cli/import/this-device.ts";
import { type Bundle, Bundle as BundleSchema, type Device } from "../../schema/bundle.ts";
import { runCli } from "../support/cli.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "import");
const fixture = (format: string, name: string) => join(FIXTURES, format, name);
const context = { now: "2026-12-01T00:00:00.000Z", toolVersion: "0.0.0-test" };

/** A fingerprint as `thisDevice()` gives it on a Raspberry Pi 5 (no identity, temperatures or governor). */
const PI5: Device = {
  board: "Raspberry Pi 5 Model B Rev 1.0",
  soc: "BCM2712",
  cpu: { model: "Cortex-A76", cores: 4, arch: "arm64" },
  ramBytes: 8 * 1024 ** 3,
  os: { name: "Debian GNU/Linux", version: "12" },
};

/** A workstation with a GPU of its own, which a file naming another GPU does not keep. */
const WORKSTATION: Device = {
  cpu: { model: "AMD Ryzen 9 7950X 16-Core Processor", cores: 16, threads: 32, arch: "x86_64" },
  ramBytes: 64 * 1024 ** 3,
  accelerators: [{ type: "gpu", vendor: "NVIDIA", model: "NVIDIA GeForce RTX 4090" }],
};

async function importedWith(format: string, name: string, device: Device, model?: string) {
  const result = await importFile(fixture(format, name), "auto", { ...context, thisDevice: device, model });
  expect(result.importer.format).toBe(format);
  for (const bundle of result.bundles) expect(BundleSchema.safeParse(bundle).success).toBe(true);
  return result;
}

describe("--this-device gives a file without hardware this machine's fingerprint", () => {
  it("an Ollama /api/generate answer", async () => {
    const { bundles, thisDevice: used } = await importedWith("ollama", "generate.json", PI5);
    expect(bundles.map((b) => b.device)).toEqual([PI5]);
    expect(used).toEqual({ why: "the file does not say which hardware it ran on", devices: [PI5] });
    // What the user is told: the board, then the SoC, the CPU, its cores and 8 GiB of RAM.
    expect(describeDevice(PI5)).toBe('"Raspberry Pi 5 Model B Rev 1.0" (BCM2712, Cortex-A76, 4 cores, 8.0 GiB RAM)');
  });

  it("`ollama run --verbose` blocks of two models: both bundles, one device", async () => {
    const { bundles, thisDevice: used } = await importedWith("ollama", "verbose-ansi-two-models.txt", PI5);
    expect(bundles.map((b) => [b.model.name, b.device])).toEqual([
      ["mistral", PI5],
      ["orca-mini", PI5],
    ]);
    expect(used?.devices).toEqual([PI5]);
  });

  it("a llama-bench markdown table, which never prints cpu_info", async () => {
    const { bundles, thisDevice: used } = await importedWith("llama-bench", "md-2025-pi5-depth-fa.md", PI5);
    expect(bundles).toHaveLength(2); // flash attention off and on
    for (const bundle of bundles) expect(bundle.device).toEqual(PI5);
    expect(used?.why).toBe("llama-bench printed no cpu_info for this result (markdown tables never do)");
  });

  it("a llama-server log naming only its GPU: the file's GPU replaces this machine's", async () => {
    const { bundles, thisDevice: used } = await importedWith("llama-server", "server-log-vulkan-h200.txt", WORKSTATION);
    const expected: Device = {
      cpu: WORKSTATION.cpu,
      ramBytes: 64 * 1024 ** 3,
      // ggml_vulkan: 0 = NVIDIA H200 (NVIDIA) | uma: 0 …
      accelerators: [{ type: "gpu", model: "NVIDIA H200", unifiedMemory: false, driver: "Vulkan (NVIDIA)" }],
    };
    expect((bundles[0] as Bundle).device).toEqual(expected);
    expect(used?.why).toMatch(/^the file does not say which hardware it ran on \(it names the GPU NVIDIA H200/);
    expect(used?.devices).toEqual([expected]);
    // The notice names what the bundle will say: the CPU, its cores, 64 GiB and the file's GPU.
    expect(describeDevice(expected)).toBe(
      '"AMD Ryzen 9 7950X 16-Core Processor" (16 cores, 64.0 GiB RAM, GPU NVIDIA H200)',
    );
  });

  it("a llama-server log without any device line", async () => {
    const { bundles } = await importedWith("llama-server", "server-log-crlf.txt", PI5);
    expect((bundles[0] as Bundle).device).toEqual(PI5);
  });

  it("a file that names its hardware keeps it, and nothing is said about this machine", async () => {
    const { bundles, thisDevice: used } = await importedWith("rkllm", "seed-000-gemma-3-270m.txt", WORKSTATION);
    expect(used).toBeUndefined();
    expect((bundles[0] as Bundle).device.soc).toBe("Rockchip RK3588");
    expect((bundles[0] as Bundle).device.cpu).toBeUndefined();
  });

  it("a fingerprint that names no board, SoC or CPU is not used: the file needs --hardware", async () => {
    await expect(
      importFile(fixture("ollama", "generate.json"), "auto", { ...context, thisDevice: { ramBytes: 1024 ** 3 } }),
    ).rejects.toThrow(/this machine's fingerprint names no board, SoC or CPU either: pass --hardware/);
  });
});

describe("edgebench import --this-device --submit", () => {
  it("says what it detected for each file before anything is sent, and sends that device", async () => {
    const dir = await mkdtemp(join(tmpdir(), "edgebench-this-device-"));
    const received: Bundle[] = [];
    const registry = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on("end", () => {
        const envelopes = (JSON.parse(body) as { envelopes: Array<{ payload: Bundle }> }).envelopes;
        received.push(...envelopes.map((e) => e.payload));
        const items = envelopes.map((_, index) => {
          const id = (received.length - envelopes.length + index).toString(16).padStart(24, "0");
          return { index, status: 201, id, url: `http://r.test/runs/${id}/`, deviceId: "d".repeat(24), created: true };
        });
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ items, created: items.length, refused: 0 }));
      });
    });
    await new Promise<void>((r) => registry.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(registry.address() as { port: number }).port}`;
      const files = [
        fixture("ollama", "generate.json"),
        fixture("llama-bench", "md-2025-pi5-depth-fa.md"),
        fixture("llama-server", "server-log-crlf.txt"),
      ];
      const result = await runCli(["import", ...files, "--this-device", "--submit", "--registry", url], {
        EDGEBENCH_HOME: join(dir, "home"),
      });
      expect(result.code, result.stderr).toBe(0);
      const machine = await thisDevice();
      const lines = result.stderr.trim().split("\n");
      const notices = lines.filter((l) => l.startsWith("Hardware not named in "));
      expect(notices).toEqual(files.map((file) => expect.stringContaining(`${file} (`) as unknown as string));
      for (const notice of notices) {
        expect(notice.endsWith(`: using this device, ${describeDevice(machine)} (--this-device)`)).toBe(true);
      }
      // Every notice comes before the first answer from the registry.
      const firstSent = lines.findIndex((l) => l.startsWith("submitted: "));
      expect(firstSent).toBeGreaterThan(-1);
      expect(Math.max(...notices.map((n) => lines.indexOf(n)))).toBeLessThan(firstSent);
      // 1 Ollama bundle + 2 llama-bench bundles + 1 llama-server bundle, each with this machine as its device.
      expect(received).toHaveLength(4);
      for (const bundle of received) expect(bundle.device).toEqual(machine);
    } finally {
      await new Promise((r) => registry.close(r));
    }
  });
});
