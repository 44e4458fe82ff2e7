// Canonical model identity (issue #16): the names each tool really prints for one model land on one slug,
// with the quantization kept apart. Expected values are what each name denotes under its publisher's and
// tool's naming conventions (cited per group), written by hand, not copied from the code's output.
import { describe, expect, it } from "vitest";
import { canonicalModel, type ModelNameSources, normalizeQuantization } from "../../schema/model-identity.ts";
import { SLUG_PATTERN } from "../../schema/slug.ts";

type Row = [input: ModelNameSources, slug: string, quantization: string | null];

const ollama = (name: string): ModelNameSources => ({ name, sourceTool: "ollama" });
const llamaBench = (modelType: string, fileName?: string): ModelNameSources => ({
  name: modelType,
  sourceTool: "llama-bench",
  ...(fileName ? { fileName } : {}),
});
const mlx = (repo: string): ModelNameSources => ({ name: repo, huggingFaceRepo: repo, sourceTool: "mlx" });
const repo = (id: string, fileName?: string): ModelNameSources => ({
  name: fileName ?? id,
  huggingFaceRepo: id,
  ...(fileName ? { fileName } : {}),
});
const file = (fileName: string, sourceTool = "llama-server"): ModelNameSources => ({
  name: fileName,
  fileName,
  sourceTool,
});
const printed = (name: string, sourceTool = "llama-server"): ModelNameSources => ({ name, sourceTool });

const GROUPS: Array<{ group: string; rows: Row[] }> = [
  {
    // Ollama library tags (ollama.com/library/<name>/tags): "<model>:<size>[-<flavor>][-<quant>]"; the
    // library's gemma3/qwen/llama/phi/smollm2/mistral models are the instruct ones, "-text" the base, and a
    // missing tag is :latest (gemma3:latest = 4b, llama3.1 = 8b, phi3.5 = 3.8b mini, smollm2 = 1.7b).
    group: "Ollama library tags",
    rows: [
      [ollama("gemma3:270m"), "gemma-3-270m-instruct", null],
      [ollama("gemma3:1b"), "gemma-3-1b-instruct", null],
      [ollama("gemma3:4b-it-q8_0"), "gemma-3-4b-instruct", "Q8_0"],
      [ollama("gemma3:1b-it-qat"), "gemma-3-1b-instruct", null],
      [ollama("gemma3"), "gemma-3-4b-instruct", null],
      [ollama("qwen2.5:7b"), "qwen2.5-7b-instruct", null],
      [ollama("qwen2.5:0.5b"), "qwen2.5-0.5b-instruct", null],
      [ollama("qwen2.5:7b-instruct-q4_K_M"), "qwen2.5-7b-instruct", "Q4_K_M"],
      [ollama("qwen2.5-coder:1.5b"), "qwen2.5-coder-1.5b-instruct", null],
      [ollama("qwen3:0.6b"), "qwen3-0.6b", null],
      [ollama("qwen3:8b"), "qwen3-8b", null],
      [ollama("qwen3:4b-instruct-2507-q4_K_M"), "qwen3-4b-instruct-2507", "Q4_K_M"],
      [ollama("llama3.2:3b"), "llama-3.2-3b-instruct", null],
      [ollama("llama3.2:1b"), "llama-3.2-1b-instruct", null],
      [ollama("llama3.2:3b-instruct-q4_K_M"), "llama-3.2-3b-instruct", "Q4_K_M"],
      [ollama("llama3.1"), "llama-3.1-8b-instruct", null],
      [ollama("llama3.1:8b-text-q4_0"), "llama-3.1-8b", "Q4_0"],
      [ollama("phi3:mini"), "phi-3-mini-4k-instruct", null],
      [ollama("phi3:3.8b"), "phi-3-mini-4k-instruct", null],
      [ollama("phi3:mini-128k"), "phi-3-mini-128k-instruct", null],
      [ollama("phi3:medium"), "phi-3-medium-4k-instruct", null],
      [ollama("phi3.5"), "phi-3.5-mini-instruct", null],
      [ollama("phi3.5:3.8b-mini-instruct-q4_K_M"), "phi-3.5-mini-instruct", "Q4_K_M"],
      [ollama("phi4:14b"), "phi-4", null],
      [ollama("phi4-mini"), "phi-4-mini-instruct", null],
      [ollama("smollm2:135m"), "smollm2-135m-instruct", null],
      [ollama("smollm2"), "smollm2-1.7b-instruct", null],
      [ollama("mistral"), "mistral-7b-instruct-v0.3", null],
      [ollama("mistral:7b-instruct-v0.3-q4_K_M"), "mistral-7b-instruct-v0.3", "Q4_K_M"],
      [ollama("mistral-nemo"), "mistral-nemo-instruct-2407", null],
      // deepseek-r1: 1.5b/7b are the Qwen distills, 8b is DeepSeek-R1-0528-Qwen3-8B since May 2025 and the
      // Llama distill moved to "8b-llama-distill".
      [ollama("deepseek-r1:1.5b"), "deepseek-r1-distill-qwen-1.5b", null],
      [ollama("deepseek-r1:7b"), "deepseek-r1-distill-qwen-7b", null],
      [ollama("deepseek-r1:8b"), "deepseek-r1-0528-qwen3-8b", null],
      [ollama("deepseek-r1:8b-llama-distill-q4_K_M"), "deepseek-r1-distill-llama-8b", "Q4_K_M"],
      [ollama("deepseek-r1:1.5b-qwen-distill-q8_0"), "deepseek-r1-distill-qwen-1.5b", "Q8_0"],
      // `ollama run hf.co/{user}/{repo}:{quant}` (Ollama's Hugging Face docs): the repo names the model.
      [ollama("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"), "llama-3.2-1b-instruct", "Q4_K_M"],
    ],
  },
  {
    // llama-bench -o json/jsonl: model_type is llama_model_desc(), "<arch> <type> <ftype>" (llama-model.cpp
    // type names: gemma3 18 layers "270M", qwen2 24 layers with n_embd 896 "1B", phi3 32 layers "3B", llama
    // 32 layers "8B" with Llama 3's vocab and "7B" with Mistral's; ftype names from llama_model_ftype_name,
    // "Q4_K - Medium" = Q4_K_M), model_filename the path passed with -m. The file names the model.
    group: "llama-bench model_type with model_filename",
    rows: [
      [llamaBench("gemma3 270M Q4_K - Medium", "gemma-3-270m-it-Q4_K_M.gguf"), "gemma-3-270m-instruct", "Q4_K_M"],
      [
        llamaBench("gemma3 1B Q4_K - Medium", "/home/pi/models/gemma-3-1b-it-Q4_K_M.gguf"),
        "gemma-3-1b-instruct",
        "Q4_K_M",
      ],
      [llamaBench("qwen2 7B Q4_K - Medium", "models/Qwen2.5-7B-Instruct-Q4_K_M.gguf"), "qwen2.5-7b-instruct", "Q4_K_M"],
      [
        llamaBench("qwen2 1B Q4_K - Medium", "models/qwen2.5-0.5b-instruct-q4_k_m.gguf"),
        "qwen2.5-0.5b-instruct",
        "Q4_K_M",
      ],
      [llamaBench("qwen3 0.6B Q8_0", "Qwen3-0.6B-Q8_0.gguf"), "qwen3-0.6b", "Q8_0"],
      [llamaBench("llama 1B Q8_0", "models/Llama-3.2-1B-Instruct-Q8_0.gguf"), "llama-3.2-1b-instruct", "Q8_0"],
      [llamaBench("llama 3B Q4_0", "Llama-3.2-3B-Instruct-Q4_0.gguf"), "llama-3.2-3b-instruct", "Q4_0"],
      [
        llamaBench("llama 8B Q4_K - Medium", "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"),
        "llama-3.1-8b-instruct",
        "Q4_K_M",
      ],
      // Microsoft's own GGUF is "Phi-3-mini-4k-instruct-q4.gguf"; the ftype says which 4-bit type it is.
      [llamaBench("phi3 3B Q4_K - Medium", "Phi-3-mini-4k-instruct-q4.gguf"), "phi-3-mini-4k-instruct", "Q4_K_M"],
      [llamaBench("phi3 14B Q4_K - Medium", "phi-4-Q4_K_M.gguf"), "phi-4", "Q4_K_M"],
      [
        llamaBench("llama 7B Q4_K - Medium", "Mistral-7B-Instruct-v0.3-Q4_K_M.gguf"),
        "mistral-7b-instruct-v0.3",
        "Q4_K_M",
      ],
      [
        llamaBench("qwen2 1.5B Q4_K - Medium", "DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf"),
        "deepseek-r1-distill-qwen-1.5b",
        "Q4_K_M",
      ],
      [
        llamaBench("llama 8B Q4_K - Medium", "DeepSeek-R1-Distill-Llama-8B-Q4_K_M.gguf"),
        "deepseek-r1-distill-llama-8b",
        "Q4_K_M",
      ],
    ],
  },
  {
    // mlx_lm.generate/benchmark print the repo they loaded: mlx-community's "<Model>-<4bit|8bit|bf16>".
    group: "MLX repo ids (mlx-community)",
    rows: [
      [mlx("mlx-community/gemma-3-270m-it-4bit"), "gemma-3-270m-instruct", "4bit"],
      [mlx("mlx-community/gemma-3-1b-it-bf16"), "gemma-3-1b-instruct", "BF16"],
      [mlx("mlx-community/Qwen2.5-7B-Instruct-4bit"), "qwen2.5-7b-instruct", "4bit"],
      [mlx("mlx-community/Qwen3-0.6B-4bit"), "qwen3-0.6b", "4bit"],
      [mlx("mlx-community/Llama-3.2-1B-Instruct-4bit"), "llama-3.2-1b-instruct", "4bit"],
      [mlx("mlx-community/Meta-Llama-3.1-8B-Instruct-8bit"), "llama-3.1-8b-instruct", "8bit"],
      [mlx("mlx-community/Phi-3.5-mini-instruct-4bit"), "phi-3.5-mini-instruct", "4bit"],
      [mlx("mlx-community/Mistral-7B-Instruct-v0.2-4bit"), "mistral-7b-instruct-v0.2", "4bit"],
      [mlx("mlx-community/DeepSeek-R1-Distill-Qwen-1.5B-4bit"), "deepseek-r1-distill-qwen-1.5b", "4bit"],
    ],
  },
  {
    // llama-server and llama-cli print general.name, which convert_hf_to_gguf.py writes as the repo name
    // title-cased with spaces (gguf-py metadata.py id_to_title): "gemma-3-270m-it" → "Gemma 3 270m It".
    group: "general.name as llama-server prints it",
    rows: [
      [printed("Gemma 3 270m It"), "gemma-3-270m-instruct", null],
      [printed("Gemma 3 270m"), "gemma-3-270m", null],
      [printed("Qwen2.5 7B Instruct"), "qwen2.5-7b-instruct", null],
      [printed("Llama 3.2 3B Instruct"), "llama-3.2-3b-instruct", null],
      [printed("Meta Llama 3.1 8B Instruct"), "llama-3.1-8b-instruct", null],
      [printed("Phi 3 Mini 4k Instruct"), "phi-3-mini-4k-instruct", null],
      [printed("SmolLM2 135M Instruct"), "smollm2-135m-instruct", null],
      [printed("DeepSeek R1 Distill Qwen 7B"), "deepseek-r1-distill-qwen-7b", null],
    ],
  },
  {
    // GGUF general.basename / size_label / finetune / version as gguf-py's get_model_id_components splits a
    // repo name ("Qwen3-4B-Instruct-2507" → basename "Qwen3", size "4B", finetune "Instruct", version
    // "2507"; Unsloth's files keep the whole name as basename) — the most trusted source.
    group: "GGUF general.* metadata",
    rows: [
      [
        { name: "Gemma 3 270m It", metadata: { basename: "gemma-3", sizeLabel: "270M", finetune: "it" } },
        "gemma-3-270m-instruct",
        null,
      ],
      [
        { name: "Qwen2.5 1.5B Instruct", metadata: { basename: "Qwen2.5", sizeLabel: "1.5B", finetune: "Instruct" } },
        "qwen2.5-1.5b-instruct",
        null,
      ],
      [
        {
          name: "Qwen3-4B-Instruct-2507",
          metadata: { basename: "Qwen3-4B-Instruct-2507", sizeLabel: "4B", finetune: "Instruct", version: "2507" },
        },
        "qwen3-4b-instruct-2507",
        null,
      ],
      [{ name: "Qwen3 0.6B", metadata: { basename: "Qwen3", sizeLabel: "0.6B" } }, "qwen3-0.6b", null],
      [
        { name: "Llama 3.2 1B Instruct", metadata: { basename: "Llama-3.2", sizeLabel: "1B", finetune: "Instruct" } },
        "llama-3.2-1b-instruct",
        null,
      ],
      [
        {
          name: "Mistral 7B Instruct v0.3",
          metadata: { basename: "Mistral", sizeLabel: "7B", finetune: "Instruct", version: "v0.3" },
        },
        "mistral-7b-instruct-v0.3",
        null,
      ],
      // "Phi-4" has no size in its name: basename "Phi", version "4", a size label computed from 14.7B.
      [{ name: "Phi 4", metadata: { basename: "Phi", version: "4", sizeLabel: "15B" } }, "phi-4", null],
      [
        { name: "SmolLM2 135M Instruct", metadata: { basename: "SmolLM2", sizeLabel: "135M", finetune: "Instruct" } },
        "smollm2-135m-instruct",
        null,
      ],
      [
        { name: "DeepSeek R1 Distill Qwen 7B", metadata: { basename: "DeepSeek-R1-Distill-Qwen", sizeLabel: "7B" } },
        "deepseek-r1-distill-qwen-7b",
        null,
      ],
      // The metadata outranks a file renamed by hand.
      [
        {
          name: "my-model.gguf",
          fileName: "my-model.gguf",
          metadata: { basename: "gemma-3", sizeLabel: "1B", finetune: "it" },
        },
        "gemma-3-1b-instruct",
        null,
      ],
    ],
  },
  {
    // GGUF file names from the usual publishers: unsloth, bartowski ("<org>_<Model>-<QUANT>.gguf"),
    // lmstudio-community, ggml-org, Qwen's own (lower-case, split "-00001-of-00002"), GGUF-my-repo
    // (lower-case), TheBloke ("<model>.<QUANT>.gguf").
    group: "GGUF file names",
    rows: [
      [file("gemma-3-270m-it-Q4_K_M.gguf"), "gemma-3-270m-instruct", "Q4_K_M"],
      [file("google_gemma-3-1b-it-Q4_K_M.gguf"), "gemma-3-1b-instruct", "Q4_K_M"],
      [file("gemma-3-1b-it-Q4_K_M.gguf", "lmstudio"), "gemma-3-1b-instruct", "Q4_K_M"],
      [file("qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf"), "qwen2.5-7b-instruct", "Q4_K_M"],
      [file("Qwen2.5-7B-Instruct-Q4_K_M.gguf"), "qwen2.5-7b-instruct", "Q4_K_M"],
      [file("Qwen3-4B-Instruct-2507-Q4_K_M.gguf"), "qwen3-4b-instruct-2507", "Q4_K_M"],
      [file("/models/llama-3.2-1b-instruct-q8_0.gguf"), "llama-3.2-1b-instruct", "Q8_0"],
      [file("Meta-Llama-3.1-8B-Instruct-IQ4_XS.gguf"), "llama-3.1-8b-instruct", "IQ4_XS"],
      [file("Phi-3.5-mini-instruct-Q4_K_M.gguf"), "phi-3.5-mini-instruct", "Q4_K_M"],
      [file("Phi-4-mini-instruct-Q4_K_M.gguf"), "phi-4-mini-instruct", "Q4_K_M"],
      [file("SmolLM2-1.7B-Instruct-Q4_K_M.gguf"), "smollm2-1.7b-instruct", "Q4_K_M"],
      [file("Mistral-Nemo-Instruct-2407-Q4_K_M.gguf"), "mistral-nemo-instruct-2407", "Q4_K_M"],
      [file("mistral-7b-instruct-v0.2.Q4_0.gguf"), "mistral-7b-instruct-v0.2", "Q4_0"],
      [file("DeepSeek-R1-Distill-Llama-8B-Q4_K_M.gguf"), "deepseek-r1-distill-llama-8b", "Q4_K_M"],
      // llama-server -hf <user>/<model>[:quant]
      [printed("ggml-org/gemma-3-270m-it-GGUF:Q8_0"), "gemma-3-270m-instruct", "Q8_0"],
    ],
  },
  {
    // Hugging Face repo ids as the publishers name them (google, Qwen, meta-llama, microsoft,
    // HuggingFaceTB, mistralai, deepseek-ai) and as quantizers repackage them.
    group: "Hugging Face repo ids",
    rows: [
      [repo("google/gemma-3-270m"), "gemma-3-270m", null],
      [repo("google/gemma-3-270m-it"), "gemma-3-270m-instruct", null],
      [repo("google/gemma-3-1b-pt"), "gemma-3-1b", null],
      [repo("google/gemma-3n-E2B-it"), "gemma-3n-e2b-instruct", null],
      [repo("unsloth/gemma-3-270m-it-GGUF", "gemma-3-270m-it-Q8_0.gguf"), "gemma-3-270m-instruct", "Q8_0"],
      [repo("google/gemma-3-4b-it-qat-q4_0-gguf", "gemma-3-4b-it-q4_0.gguf"), "gemma-3-4b-instruct", "Q4_0"],
      [repo("Qwen/Qwen2.5-1.5B"), "qwen2.5-1.5b", null],
      [repo("Qwen/Qwen2.5-7B-Instruct-AWQ"), "qwen2.5-7b-instruct", "AWQ"],
      [repo("Qwen/Qwen2.5-7B-Instruct-1M"), "qwen2.5-7b-instruct-1m", null],
      [repo("Qwen/Qwen3-30B-A3B-Instruct-2507"), "qwen3-30b-a3b-instruct-2507", null],
      [repo("Qwen/Qwen3-4B"), "qwen3-4b", null],
      [repo("Qwen/Qwen3-4B-Base"), "qwen3-4b-base", null],
      [repo("Qwen/Qwen3-4B-Instruct-2507"), "qwen3-4b-instruct-2507", null],
      [repo("Qwen/Qwen3-4B-Thinking-2507"), "qwen3-4b-thinking-2507", null],
      [repo("meta-llama/Llama-3.2-1B"), "llama-3.2-1b", null],
      [repo("meta-llama/Llama-3.1-8B-Instruct"), "llama-3.1-8b-instruct", null],
      [repo("unsloth/Llama-3.2-1B-Instruct-bnb-4bit"), "llama-3.2-1b-instruct", "bnb-4bit"],
      [
        repo("hugging-quants/Llama-3.2-1B-Instruct-Q8_0-GGUF", "llama-3.2-1b-instruct-q8_0.gguf"),
        "llama-3.2-1b-instruct",
        "Q8_0",
      ],
      [repo("microsoft/Phi-3-mini-4k-instruct"), "phi-3-mini-4k-instruct", null],
      [repo("microsoft/Phi-3-mini-128k-instruct"), "phi-3-mini-128k-instruct", null],
      [repo("microsoft/Phi-3.5-mini-instruct"), "phi-3.5-mini-instruct", null],
      [repo("microsoft/phi-4"), "phi-4", null],
      [repo("microsoft/Phi-4-mini-instruct"), "phi-4-mini-instruct", null],
      [repo("microsoft/Phi-4-mini-reasoning"), "phi-4-mini-reasoning", null],
      [repo("HuggingFaceTB/SmolLM2-135M"), "smollm2-135m", null],
      [repo("HuggingFaceTB/SmolLM2-135M-Instruct"), "smollm2-135m-instruct", null],
      [repo("HuggingFaceTB/SmolLM3-3B"), "smollm3-3b", null],
      [repo("HuggingFaceTB/SmolLM3-3B-Base"), "smollm3-3b-base", null],
      [repo("unsloth/SmolLM3-3B-GGUF", "SmolLM3-3B-Q4_K_M.gguf"), "smollm3-3b", "Q4_K_M"],
      [repo("mistralai/Mistral-7B-v0.3"), "mistral-7b-v0.3", null],
      [repo("mistralai/Mistral-7B-Instruct-v0.3"), "mistral-7b-instruct-v0.3", null],
      [repo("mistralai/Mistral-Nemo-Instruct-2407"), "mistral-nemo-instruct-2407", null],
      [repo("mistralai/Ministral-8B-Instruct-2410"), "ministral-8b-instruct-2410", null],
      [repo("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"), "deepseek-r1-distill-qwen-7b", null],
      [repo("deepseek-ai/DeepSeek-R1-Distill-Llama-8B"), "deepseek-r1-distill-llama-8b", null],
      [repo("deepseek-ai/DeepSeek-R1-0528-Qwen3-8B"), "deepseek-r1-0528-qwen3-8b", null],
    ],
  },
  {
    // RKLLM model files (rkllm-toolkit exports, "<model>-<dtype>-…-<platform>.rkllm") and lm-eval's
    // `--model hf --model_args pretrained=<repo>,dtype=<dtype>`.
    group: "RKLLM files and lm-eval model_args",
    rows: [
      [file("google_gemma-3-270m-w8a8-opt0-hybrid0-npu3-ctx16384-rk3588.rkllm", "rkllm"), "gemma-3-270m", "w8a8"],
      [file("Qwen3-0.6B-w8a8-rk3588.rkllm", "rkllm"), "qwen3-0.6b", "w8a8"],
      [
        {
          name: "pretrained=Qwen/Qwen2.5-0.5B-Instruct,dtype=bfloat16",
          quantization: "bfloat16",
          sourceTool: "lm-eval",
        },
        "qwen2.5-0.5b-instruct",
        "BF16",
      ],
    ],
  },
  {
    // The demo seeds' own model blocks (demo/seeds/*.json), as their producers declared them.
    group: "bundles as the seeds declare them",
    rows: [
      [
        {
          name: "gemma-3-270m",
          quantization: "w8a8",
          fileName: "google_gemma-3-270m-w8a8-opt0-hybrid0-npu3-ctx16384-rk3588.rkllm",
          huggingFaceRepo: "google/gemma-3-270m",
        },
        "gemma-3-270m",
        "w8a8",
      ],
      [{ name: "Qwen3-0.6B", huggingFaceRepo: "Qwen/Qwen3-0.6B" }, "qwen3-0.6b", null],
      [
        { name: "SmolLM3-3B", quantization: "1.58-bit", huggingFaceRepo: "HuggingFaceTB/SmolLM3-3B" },
        "smollm3-3b",
        "1.58bit",
      ],
      [{ name: "SmolLM3-3B", quantization: "fp16", huggingFaceRepo: "HuggingFaceTB/SmolLM3-3B" }, "smollm3-3b", "F16"],
      [{ name: "Llama-3.2-3B" }, "llama-3.2-3b", null],
      [{ name: "Phi-3-mini" }, "phi-3-mini-4k-instruct", null],
      [{ name: "Qwen2.5-7B", quantization: "Q4" }, "qwen2.5-7b", "Q4"],
      [{ name: "Qwen3-4B", quantization: "Q6" }, "qwen3-4b", "Q6"],
      [
        {
          name: "Qwen3-4B-Instruct-2507",
          quantization: "Q4_K_M",
          fileName: "Qwen3-4B-Instruct-2507-Q4_K_M.gguf",
          huggingFaceRepo: "Qwen/Qwen3-4B-Instruct-2507",
        },
        "qwen3-4b-instruct-2507",
        "Q4_K_M",
      ],
    ],
  },
];

const ROWS = GROUPS.flatMap(({ group, rows }) => rows.map((row) => ({ group, row })));
const label = (input: ModelNameSources) =>
  [input.huggingFaceRepo, input.name, input.fileName].filter((v, i, all) => v && all.indexOf(v) === i).join(" + ");

describe("canonicalModel: real spellings from each tool", () => {
  it("covers at least 70 spellings", () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(70);
  });

  for (const { group, rows } of GROUPS) {
    describe(group, () => {
      it.each(rows.map((row) => ({ label: label(row[0]), row })))("$label", ({ row: [input, slug, quantization] }) => {
        const identity = canonicalModel(input);
        expect(identity.slug).toBe(slug);
        expect(identity.quantization).toBe(quantization);
        expect(identity.recognized).toBe(true);
        expect(identity.baseSlug).toBeNull();
      });
    });
  }

  it("gives every slug the URL slug shape and never a quantization or packaging word", () => {
    for (const { row } of ROWS) {
      const { slug } = canonicalModel(row[0]);
      expect(slug).toMatch(SLUG_PATTERN);
      expect(slug).not.toMatch(
        /(?:^|-)(?:i?q\d(?:-k)?(?:-[sml0])?|\d+bit|gguf|mlx|bf16|f16|fp16|w8a8|awq|rk3588|qat)(?:-|$)/,
      );
    }
  });

  it("is deterministic: the same sources give the same identity, call after call", () => {
    for (const { row } of ROWS) {
      const first = canonicalModel(row[0]);
      expect(canonicalModel(structuredClone(row[0]))).toEqual(first);
      expect(canonicalModel(row[0])).toEqual(first);
    }
  });
});

describe("one model, one page", () => {
  it("lands gemma-3-270m-it from llama-bench, Ollama, MLX, llama-server, GGUF metadata and file names on one slug", () => {
    const spellings: ModelNameSources[] = [
      llamaBench("gemma3 270M Q4_K - Medium", "gemma-3-270m-it-Q4_K_M.gguf"),
      ollama("gemma3:270m"),
      mlx("mlx-community/gemma-3-270m-it-4bit"),
      printed("Gemma 3 270m It"),
      { name: "Gemma 3 270m It", metadata: { basename: "gemma-3", sizeLabel: "270M", finetune: "it" } },
      file("gemma-3-270m-it-Q8_0.gguf"),
      repo("google/gemma-3-270m-it"),
    ];
    const identities = spellings.map(canonicalModel);
    expect(new Set(identities.map((i) => i.slug))).toEqual(new Set(["gemma-3-270m-instruct"]));
    expect(identities[0]).toEqual({
      slug: "gemma-3-270m-instruct",
      name: "Gemma 3 270M Instruct",
      family: "gemma",
      version: "3",
      size: "270m",
      variant: "instruct",
      baseSlug: null,
      quantization: "Q4_K_M",
      recognized: true,
    });
    // The runs differ only in their quantization.
    expect(identities.map((i) => i.quantization)).toEqual(["Q4_K_M", null, "4bit", null, null, "Q8_0", null]);
  });

  it("keeps base and instruct weights apart", () => {
    const pairs: Array<[ModelNameSources, ModelNameSources]> = [
      [repo("google/gemma-3-270m"), repo("google/gemma-3-270m-it")],
      [repo("Qwen/Qwen2.5-1.5B"), repo("Qwen/Qwen2.5-1.5B-Instruct")],
      [repo("Qwen/Qwen3-4B-Base"), repo("Qwen/Qwen3-4B")],
      [repo("meta-llama/Llama-3.2-1B"), repo("meta-llama/Llama-3.2-1B-Instruct")],
      [ollama("llama3.1:8b-text-q4_0"), ollama("llama3.1:8b-instruct-q4_0")],
      [repo("HuggingFaceTB/SmolLM2-135M"), repo("HuggingFaceTB/SmolLM2-135M-Instruct")],
      [repo("HuggingFaceTB/SmolLM3-3B-Base"), repo("HuggingFaceTB/SmolLM3-3B")],
      [repo("mistralai/Mistral-7B-v0.3"), repo("mistralai/Mistral-7B-Instruct-v0.3")],
    ];
    for (const [baseSources, instructSources] of pairs) {
      const base = canonicalModel(baseSources);
      const instruct = canonicalModel(instructSources);
      expect(base.variant).toBe("base");
      expect(instruct.variant).toBe("instruct");
      expect(base.slug).not.toBe(instruct.slug);
      expect(base.family).toBe(instruct.family);
      expect(base.size).toBe(instruct.size);
    }
  });

  it("keeps Qwen3's hybrid, base and dated 2507 releases as four models", () => {
    const slugs = [
      repo("Qwen/Qwen3-4B"),
      repo("Qwen/Qwen3-4B-Base"),
      repo("Qwen/Qwen3-4B-Instruct-2507"),
      repo("Qwen/Qwen3-4B-Thinking-2507"),
    ].map((s) => canonicalModel(s).slug);
    expect(new Set(slugs).size).toBe(4);
    expect(canonicalModel(repo("Qwen/Qwen3-4B"))).toMatchObject({ variant: "instruct", version: "3", size: "4b" });
    // Only the 2507 release of Qwen3-4B is named "Instruct"; Qwen3-8B has none, so its post-trained model is the hybrid.
    expect(canonicalModel(printed("Qwen3 4B Instruct")).slug).toBe("qwen3-4b-instruct-2507");
    expect(canonicalModel(printed("Qwen3 8B Instruct")).slug).toBe("qwen3-8b");
  });

  it("agrees on Phi-3-mini's size across Ollama, Microsoft and llama-bench, as far as each can tell", () => {
    const named = [ollama("phi3:mini"), ollama("phi3:3.8b"), repo("microsoft/Phi-3-mini-4k-instruct")].map(
      canonicalModel,
    );
    for (const identity of named) {
      expect(identity).toMatchObject({ slug: "phi-3-mini-4k-instruct", family: "phi", version: "3", size: "3.8b" });
    }
    // llama-bench alone prints "phi3 3B" for Phi-3-mini, Phi-3.5-mini and Phi-4-mini alike (all 3.8B, 32 layers).
    const benchOnly = canonicalModel(llamaBench("phi3 3B Q4_K - Medium"));
    expect(benchOnly).toMatchObject({ family: "phi", size: "3.8b", recognized: false, variant: "unknown" });
    expect(benchOnly.slug).not.toBe("phi-3-mini-4k-instruct");
    expect(canonicalModel(repo("microsoft/phi-4")).size).toBe("14b");
  });

  it("normalizes sizes to the publisher's spelling", () => {
    expect(canonicalModel({ name: "Qwen3", metadata: { basename: "Qwen3", sizeLabel: "600M" } })).toMatchObject({
      slug: "qwen3-0.6b",
      size: "0.6b",
    });
    expect(canonicalModel({ name: "Qwen3", parameters: 596_049_920 }).slug).toBe("qwen3-0.6b");
    expect(canonicalModel(printed("GEMMA-3-270M-IT")).size).toBe("270m");
    expect(canonicalModel(repo("Qwen/Qwen2.5-1.5B-Instruct")).size).toBe("1.5b");
  });
});

describe("what one source cannot tell", () => {
  it("does not guess a model from llama-bench's architecture and size alone", () => {
    expect(canonicalModel(llamaBench("gemma3 270M Q4_K - Medium"))).toEqual({
      slug: "gemma3-270m",
      name: "gemma3 270M",
      family: "gemma",
      version: "3",
      size: "270m",
      variant: "unknown",
      baseSlug: null,
      quantization: "Q4_K_M",
      recognized: false,
    });
    // qwen2 is Qwen2, Qwen2.5 and the R1 Qwen distills alike.
    expect(canonicalModel(llamaBench("qwen2 7B Q4_K - Medium"))).toMatchObject({
      slug: "qwen2-7b",
      family: "qwen",
      version: null,
      recognized: false,
    });
    // A generic file name says nothing more (test/fixtures/import/llama-bench, the 2023 JSON).
    expect(canonicalModel(llamaBench("llama 7B mostly Q4_0", "models/7B/ggml-model-q4_0.gguf"))).toMatchObject({
      slug: "llama-7b",
      quantization: "Q4_0",
      recognized: false,
    });
  });

  it("falls back to the cleaned most trusted name for unknown families", () => {
    expect(canonicalModel(file("/models/model.gguf"))).toMatchObject({ slug: "model", recognized: false });
    expect(canonicalModel(ollama("orca-mini"))).toMatchObject({ slug: "orca-mini", recognized: false, baseSlug: null });
    expect(canonicalModel(file("tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf"))).toMatchObject({
      slug: "tinyllama-1.1b-chat-v1.0",
      family: "tinyllama",
      size: "1.1b",
      variant: "instruct",
      quantization: "Q4_K_M",
      recognized: false,
    });
  });
});

describe("fine-tunes keep their own page, linked to their base", () => {
  it("links a community fine-tune named in its repo to its declared base (demo seed 004)", () => {
    const identity = canonicalModel({
      name: "antonio-gemma3-smart-q4",
      quantization: "Q4_K_M",
      fileName: "gemma3-1b-q4_k_m.gguf",
      huggingFaceRepo: "chill123/antonio-gemma3-evo-q4",
      baseModel: "google/gemma-3-1b-it",
      sourceTool: "ollama",
    });
    expect(identity).toMatchObject({
      slug: "antonio-gemma3-evo",
      baseSlug: "gemma-3-1b-instruct",
      family: "gemma",
      version: "3",
      size: "1b",
      quantization: "Q4_K_M",
      recognized: true,
    });
    expect(identity.variant).not.toMatch(/^(?:base|instruct)$/);
  });

  it("gives a declared LoRA on gemma-3-270m its own slug per task (demo seeds 001)", () => {
    const lora = (task: string) =>
      canonicalModel({
        name: "gemma-3-270m",
        huggingFaceRepo: "google/gemma-3-270m",
        parameters: 270_000_000,
        fineTune: { method: "lora", task },
      });
    expect(lora("sql")).toMatchObject({
      slug: "gemma-3-270m-lora-sql",
      baseSlug: "gemma-3-270m",
      variant: "lora-sql",
      family: "gemma",
      size: "270m",
      recognized: true,
    });
    const tasks = [
      "SQL generation (Italian business queries)",
      "intent classification (Italian customer support)",
      "named entity recognition (Italian)",
      "hashtag generation",
    ].map(lora);
    expect(new Set(tasks.map((t) => t.slug)).size).toBe(4);
    for (const identity of tasks) {
      expect(identity.slug).toMatch(SLUG_PATTERN);
      expect(identity.slug.startsWith("gemma-3-270m-lora-")).toBe(true);
      expect(identity.baseSlug).toBe("gemma-3-270m");
    }
  });

  it("reads a known model plus words of its own as a fine-tune of that model", () => {
    expect(canonicalModel(repo("huihui-ai/Qwen2.5-7B-Instruct-abliterated"))).toMatchObject({
      slug: "qwen2.5-7b-instruct-abliterated",
      baseSlug: "qwen2.5-7b-instruct",
      variant: "abliterated",
      recognized: true,
    });
  });

  it("does not turn an instruct model into a fine-tune because it names its base", () => {
    expect(canonicalModel({ ...repo("google/gemma-3-270m-it"), baseModel: "google/gemma-3-270m" })).toMatchObject({
      slug: "gemma-3-270m-instruct",
      baseSlug: null,
    });
  });
});

describe("normalizeQuantization", () => {
  // llama.cpp's llama_model_ftype_name strings, file-name spellings, Ollama's lower-case tags, MLX, RKLLM,
  // BitNet and transformers dtypes.
  it.each([
    ["Q4_K - Medium", "Q4_K_M"],
    ["Q4_K - Small", "Q4_K_S"],
    ["Q5_K - Medium", "Q5_K_M"],
    ["Q3_K - Large", "Q3_K_L"],
    ["Q2_K - Medium", "Q2_K"],
    ["Q4_K - Medium (guessed)", "Q4_K_M"],
    ["mostly Q4_0", "Q4_0"],
    ["all F32", "F32"],
    ["IQ4_XS - 4.25 bpw", "IQ4_XS"],
    ["IQ3_S mix - 3.66 bpw", "IQ3_M"],
    ["TQ1_0 - 1.69 bpw ternary", "TQ1_0"],
    ["MXFP4 MoE", "MXFP4"],
    ["Q8_0", "Q8_0"],
    ["q4_k_m", "Q4_K_M"],
    ["q4_K_M", "Q4_K_M"],
    ["Q6_K", "Q6_K"],
    ["UD-Q4_K_XL", "UD-Q4_K_XL"],
    ["i1-Q4_K_M", "Q4_K_M"],
    ["F16", "F16"],
    ["fp16", "F16"],
    ["float16", "F16"],
    ["bf16", "BF16"],
    ["bfloat16", "BF16"],
    ["4bit", "4bit"],
    ["4-bit", "4bit"],
    ["8bit", "8bit"],
    ["3bit", "3bit"],
    ["w8a8", "w8a8"],
    ["W4A16", "w4a16"],
    ["w8a8_g128", "w8a8_g128"],
    ["1.58-bit", "1.58bit"],
    ["1.58bit", "1.58bit"],
    ["b1.58", "1.58bit"],
    ["AWQ", "AWQ"],
    ["Q4", "Q4"],
    ["Q4_K_M (4-bit with K-quant method)", "Q4_K_M"],
  ])("%s → %s", (raw, expected) => {
    expect(normalizeQuantization(raw)).toBe(expected);
  });

  it("returns null for what is not a quantization", () => {
    expect(normalizeQuantization("instruct")).toBeNull();
    expect(normalizeQuantization("")).toBeNull();
    expect(normalizeQuantization("auto")).toBeNull();
  });
});
