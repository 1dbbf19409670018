// The value paths values.schema.json defines, one a line, at the level the
// chart README documents them: nested objects are followed, except the ones
// documented whole (resources, probes, security profiles, free-form maps).
//   node value-paths.mjs values.schema.json
import fs from "node:fs";

const schema = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const FOLLOW = new Set(["image", "serviceAccount"]); // $refs documented key by key
const out = [];
function walk(node, path) {
  if (node.$ref) {
    const name = node.$ref.replace("#/definitions/", "");
    if (!FOLLOW.has(name)) return out.push(path);
    node = schema.definitions[name];
  }
  if (node.type === "object" && node.properties && node.additionalProperties === false && path !== "rules") {
    for (const [k, v] of Object.entries(node.properties)) walk(v, path ? `${path}.${k}` : k);
  } else {
    out.push(path);
  }
}
walk(schema, "");
console.log(out.filter((p) => p !== "global").join("\n"));
