// YAML (one document) to JSON on stdout, for the test's jq assertions.
//   node yaml2json.mjs --node-modules DIR FILE|-
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [flag, nodeModules, file] = process.argv.slice(2);
if (flag !== "--node-modules" || !nodeModules || !file) {
  console.error("usage: node yaml2json.mjs --node-modules DIR FILE|-");
  process.exit(2);
}
const require = createRequire(path.join(path.dirname(path.resolve(nodeModules)), "package.json"));
const YAML = require("yaml");
const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
const doc = YAML.parseDocument(text);
if (doc.errors.length) {
  console.error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
  process.exit(1);
}
process.stdout.write(JSON.stringify(doc.toJS()) + "\n");
