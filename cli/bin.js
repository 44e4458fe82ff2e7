#!/usr/bin/env node
// The edgebench CLI. In the checkout, Node.js >= 22.18 runs the TypeScript sources directly (type
// stripping); the npm package carries no sources, only their build (dist/, cli/build.ts), which
// runs on Node.js 20.
import { existsSync } from "node:fs";

const [major, minor] = process.versions.node.split(".").map(Number);
const stripsTypes = major > 22 || (major === 22 && minor >= 18);
const sources = new URL("./main.ts", import.meta.url);
const built = new URL("./dist/main.js", import.meta.url);

if (major < 20) {
  console.error(`edgebench needs Node.js 20 or newer; this is ${process.version}.`);
  process.exit(1);
}
if (stripsTypes && existsSync(sources)) await import(sources.href);
else if (existsSync(built)) await import(built.href);
else {
  console.error(
    `edgebench: running the sources needs Node.js 22.18 or newer; this is ${process.version}.\n` +
      "From the checkout, `npx edgebench …` runs it on the Node.js that `npm install` provides, " +
      "or `npm run build --workspace cli` builds it for Node.js 20.",
  );
  process.exit(1);
}
