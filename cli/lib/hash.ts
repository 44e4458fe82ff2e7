import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";

/** sha256 of a file, streamed (model files are gigabytes), reporting bytes done as it goes. */
export async function sha256File(path: string, onProgress?: (done: number, total: number) => void): Promise<string> {
  const { size } = await stat(path);
  const hash = createHash("sha256");
  let done = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).byteLength;
    onProgress?.(done, size);
  }
  return hash.digest("hex");
}
