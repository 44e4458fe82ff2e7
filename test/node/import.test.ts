// `edgebench import` as a whole: cleaning console captures, and hostile input: whatever the file,
// a one-line error naming it, a non-zero exit, nothing on stdout and nothing sent to a registry.

import { copyFile, mkdir, mkdtemp, open, readdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gpuNames } from "../../cli/import/formats/llama-bench-fields.ts";
import { acceleratorName, hardwareOfList, notHardware } from "../../cli/import/hardware.ts";
import { cleanText, repairMojibake, stripAnsi } from "../../cli/import/text.ts";
import { runCli } from "../support/cli.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "import");

describe("cleaning console captures", () => {
  it("removes colour codes and hyperlinks but keeps the text", () => {
    expect(stripAnsi("\u001b[1;32m| model |\u001b[0m \u001b]8;;https://x.test\u0007link\u001b]8;;\u0007")).toBe(
      "| model | link",
    );
  });

  it("keeps what a terminal shows of a line rewritten with carriage returns, and unifies CRLF", () => {
    expect(cleanText("loading  10%\rloading  55%\rloading 100%\r\neval rate: 12.5 tokens/s\r\n")).toBe(
      "loading 100%\neval rate: 12.5 tokens/s\n",
    );
  });

  it("repairs UTF-8 that was decoded twice, through Windows-1252 and through Mac Roman, and leaves good text alone", () => {
    const check = "\u2705";
    const windows1252 = new TextDecoder("windows-1252").decode(new TextEncoder().encode(check));
    const macRoman = new TextDecoder("macintosh").decode(new TextEncoder().encode(`${check} 29.8 tok/s ± 0.4`));
    expect(windows1252).toBe("âœ…");
    expect(repairMojibake(`PASS ${windows1252}`)).toBe(`PASS ${check}`);
    expect(repairMojibake(macRoman)).toBe(`${check} 29.8 tok/s ± 0.4`);
    expect(repairMojibake("29.8 tok/s ± 0.4 · µs — ok")).toBe("29.8 tok/s ± 0.4 · µs — ok");
  });

  it("drops a byte-order mark", () => {
    expect(cleanText("\uFEFF{}")).toBe("{}");
  });
});

describe("names that are not hardware", () => {
  it.each([
    ["OpenBLAS, CPU", "backend"], // llama-bench's cpu_info of a BLAS build on a CPU /proc/cpuinfo does not name
    ["CPU", "backend"],
    ["BLAS", "backend"],
    ["CUDA", "backend"],
    ["Metal", "backend"],
    ["Vulkan", "backend"],
    ["CUDA0", "backend"], // Ollama's name= since 0.12: the ggml device
    ["MTL0", "backend"],
    ["RPC[192.168.1.20:50052]", "backend"],
    ["CUDA,RPC", "backend"],
    ["Metal, BLAS", "backend"],
    ["GPU", "backend"],
    ["", "empty"],
    ["   ", "empty"],
    ["unknown", "placeholder"],
    ["N/A", "placeholder"],
    ["(null)", "placeholder"],
    ["-", "placeholder"], // lscpu's Model name on some Arm boards
    ["To Be Filled By O.E.M.", "placeholder"],
    ["1002:73bf", "pci"], // Ollama's ROCm name= before 0.12
  ])("%j is not hardware (%s)", (name, why) => {
    expect(notHardware(name)).toBe(why);
  });

  it.each([
    "Raspberry Pi 4 Model B",
    "ARM Cortex-A76",
    "ARMv7 Processor rev 3 (v7l)",
    "AMD Ryzen 9 7950X 16-Core Processor",
    "Apple M2",
    "NVIDIA GeForce RTX 4090",
    "NVIDIA H200",
    "Intel(R) Arc(TM) A770 Graphics",
    "AMD Radeon RX 7900 XTX (RADV NAVI31)",
    "Rockchip RK3588",
    "Cortex-A72",
  ])("%j is hardware", (name) => {
    expect(notHardware(name)).toBeUndefined();
  });

  it("keeps the hardware of a printed list and drops the backends", () => {
    expect(hardwareOfList("OpenBLAS, AMD Ryzen 9 7950X 16-Core Processor")).toBe("AMD Ryzen 9 7950X 16-Core Processor");
    expect(hardwareOfList("OpenBLAS, CPU")).toBeUndefined();
    expect(hardwareOfList("ARM Cortex-A76")).toBe("ARM Cortex-A76");
  });

  it("keeps a GPU name as printed when the schema takes it, else drops only what the schema refuses", () => {
    expect(acceleratorName("AMD Radeon RX 7900 XTX (RADV NAVI31)")).toEqual({
      model: "AMD Radeon RX 7900 XTX (RADV NAVI31)",
    });
    expect(acceleratorName("AMD Radeon Graphics (RADV GFX1103_R1; LLVM 17)")).toEqual({
      model: "AMD Radeon Graphics",
      notes: 'printed as "AMD Radeon Graphics (RADV GFX1103_R1; LLVM 17)"',
    });
    expect(acceleratorName("CUDA0")).toBeUndefined();
    expect(gpuNames("NVIDIA GeForce RTX 3090/NVIDIA GeForce RTX 3090")).toEqual([
      "NVIDIA GeForce RTX 3090",
      "NVIDIA GeForce RTX 3090",
    ]);
    expect(gpuNames("NVIDIA H200, NVIDIA H200")).toEqual(["NVIDIA H200", "NVIDIA H200"]);
  });
});

describe("hostile input", () => {
  let dir: string;
  let registry: Server;
  let registryUrl: string;
  const requests: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgebench-import-"));
    // A registry that records every request: a refused import must not reach it.
    registry = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => registry.listen(0, "127.0.0.1", r));
    registryUrl = `http://127.0.0.1:${(registry.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => registry.close(r));
  });

  const env = () => ({ EDGEBENCH_HOME: join(dir, "home") });

  async function refused(args: string[]): Promise<string> {
    const result = await runCli(["import", ...args, "--submit", "--registry", registryUrl], env());
    expect(result.code, result.stderr).not.toBe(0);
    expect(result.stdout).toBe("");
    // Progress lines for good files may come first; the error is one line.
    const lines = result.stderr
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("edgebench: "));
    expect(lines, result.stderr).toHaveLength(1);
    expect(requests).toEqual([]);
    return lines[0] as string;
  }

  it("refuses binary garbage, naming the file", async () => {
    const file = join(dir, "garbage.bin");
    const bytes = new Uint8Array(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 256;
    await writeFile(file, bytes);
    expect(await refused([file])).toBe(
      `edgebench: ${file}: this is a binary file, not a text output of a benchmark tool`,
    );
  });

  it("refuses a 50 MB file without reading it whole", async () => {
    const file = join(dir, "huge.txt");
    const handle = await open(file, "w");
    await handle.truncate(50 * 1024 * 1024);
    await handle.close();
    expect(await refused([file])).toMatch(`${file} is 52428800 bytes; a file may be at most 16 MiB`);
  });

  it("refuses an empty file and text in no known format", async () => {
    const empty = join(dir, "empty.txt");
    await writeFile(empty, "\r\n  \n");
    expect(await refused([empty])).toBe(`edgebench: ${empty}: the file is empty`);
    const prose = join(dir, "notes.txt");
    await writeFile(prose, "We ran some models on the board last week and they were fast.\n");
    expect(await refused([prose])).toMatch(new RegExp(`^edgebench: ${prose}: not a format edgebench recognises`));
  });

  it("refuses a missing file and an unknown --format with a usage error", async () => {
    const missing = join(dir, "nope.json");
    expect(await refused([missing])).toBe(`edgebench: cannot read file ${missing}: no such file`);
    const result = await runCli(["import", missing, "--format", "csv"], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /--format must be one of auto, llama-bench, lm-eval, ollama, llama-server, mlx, rkllm/,
    );
  });

  it("names the file and line when a file is forced through the wrong importer", async () => {
    const llamaBench = join(FIXTURES, "llama-bench", "md-2025-pi5-depth-fa.md");
    const line = await refused([llamaBench, "--format", "ollama", "--hardware", "Raspberry Pi 5"]);
    expect(line).toMatch(new RegExp(`^edgebench: ${llamaBench}(:\\d+)?: `));
    const ollama = join(FIXTURES, "ollama", "generate.json");
    expect(await refused([ollama, "--format", "llama-bench", "--hardware", "Raspberry Pi 5"])).toMatch(
      new RegExp(`^edgebench: ${ollama}(:\\d+)?: `),
    );
  });

  it("sends nothing when one of several files is bad", async () => {
    const good = join(FIXTURES, "llama-bench", "md-2025-pi5-depth-fa.md");
    const bad = join(dir, "half.txt");
    await writeFile(bad, "| model | size | params | backend | threads | test | t/s |\n| --- |");
    const line = await refused([good, bad, "--hardware", "Raspberry Pi 5"]);
    expect(line).toMatch(new RegExp(`^edgebench: ${bad}`));
  });

  it("writes one bundle file per bundle with --out, even for inputs that share a base name", async () => {
    const fixture = join(FIXTURES, "llama-bench", "md-2025-pi5-depth-fa.md");
    const copies = [join(dir, "a"), join(dir, "b")];
    for (const copy of copies) {
      await mkdir(copy, { recursive: true });
      await copyFile(fixture, join(copy, "results.md"));
    }
    const out = join(dir, "out");
    const args = ["import", ...copies.map((c) => join(c, "results.md")), "--hardware", "Raspberry Pi 5", "--out", out];
    const result = await runCli(args, env());
    expect(result.code, result.stderr).toBe(0);
    // Each file holds two configurations: four bundles, four files, none overwritten.
    expect((await readdir(out)).sort()).toEqual([
      "results-1.2.bundle.json",
      "results-1.bundle.json",
      "results-2.2.bundle.json",
      "results-2.bundle.json",
    ]);
  });
});

/**
 * `edgebench import <two-configuration table> --submit` against a stub registry that answers each
 * request with `answer(path, body)`; returns what it received and the CLI's result.
 */
async function importSubmittingTo(answer: (path: string, body: string) => { status: number; json: unknown }) {
  const dir = await mkdtemp(join(tmpdir(), "edgebench-import-batch-"));
  const received: Array<{ url: string; body: string }> = [];
  const registry = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      received.push({ url: req.url ?? "", body });
      const { status, json } = answer(req.url ?? "", body);
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    });
  });
  await new Promise<void>((r) => registry.listen(0, "127.0.0.1", r));
  try {
    const url = `http://127.0.0.1:${(registry.address() as { port: number }).port}`;
    const fixture = join(FIXTURES, "llama-bench", "md-2025-pi5-depth-fa.md");
    const result = await runCli(["import", fixture, "--hardware", "Raspberry Pi 5", "--submit", "--registry", url], {
      EDGEBENCH_HOME: join(dir, "home"),
    });
    return { received, result };
  } finally {
    await new Promise((r) => registry.close(r));
  }
}

describe("import --submit in batches", () => {
  it("sends the bundles in one request and reports each one: stored, or refused with the registry's reason", async () => {
    // A registry that stores the first envelope of a batch and refuses the second, as the API answers.
    const { received, result } = await importSubmittingTo(() => ({
      status: 200,
      json: {
        items: [
          {
            index: 0,
            status: 201,
            id: "a".repeat(24),
            url: `http://r.test/runs/${"a".repeat(24)}/`,
            deviceId: "d".repeat(24),
            created: true,
          },
          { index: 1, status: 422, error: { code: "created_out_of_window", message: "too old; measure again" } },
        ],
        created: 1,
        refused: 1,
      },
    }));
    const batches = received.map((r) => ({
      url: r.url,
      envelopes: (JSON.parse(r.body) as { envelopes: unknown[] }).envelopes.length,
    }));
    expect(batches).toEqual([{ url: "/v1/runs/batch", envelopes: 2 }]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`submitted: http://r.test/runs/${"a".repeat(24)}/`);
    expect(result.stderr).toContain(
      "bundle 2 of 2: the registry refused it (422 created_out_of_window): too old; measure again",
    );
  });

  it("sends one request per bundle to a registry without the batch route", async () => {
    let next = 0;
    const { received, result } = await importSubmittingTo((path) => {
      if (path === "/v1/runs/batch") {
        return { status: 404, json: { error: { code: "not_found", message: "no route", requestId: "r" } } };
      }
      const id = (next++).toString(16).padStart(24, "0");
      return { status: 201, json: { id, url: `http://r.test/runs/${id}/`, deviceId: "d".repeat(24), created: true } };
    });
    expect(result.code, result.stderr).toBe(0);
    expect(received.map((r) => r.url)).toEqual(["/v1/runs/batch", "/v1/runs", "/v1/runs"]);
    expect(result.stderr).toContain(`submitted: http://r.test/runs/${"1".padStart(24, "0")}/`);
  });
});
