#!/usr/bin/env node
// The edgebench CLI. Node.js >= 22.18 runs the TypeScript sources directly (type stripping).
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `edgebench needs Node.js 22.18 or newer; this is ${process.version}.\n` +
      "From the checkout, `npx edgebench …` runs it on the Node.js that `npm install` provides.",
  );
  process.exit(1);
}
await import("./main.ts");
