// Every importer, in the order --format auto tries them when two are equally sure.
import { llamaBench } from "./formats/llama-bench.ts";
import { llamaServer } from "./formats/llama-server.ts";
import { lmEval } from "./formats/lm-eval.ts";
import { mlx } from "./formats/mlx.ts";
import { ollama } from "./formats/ollama.ts";
import { rkllm } from "./formats/rkllm.ts";
import type { Importer } from "./types.ts";

export const IMPORTERS: readonly Importer[] = [llamaBench, lmEval, ollama, llamaServer, mlx, rkllm];
