// Offline validation of rendered Kubernetes manifests (helm template output).
//
//   node validate.mjs --node-modules DIR --model-dir DIR [--json OUT] FILE...
//
// Each object is checked, without a cluster, in three layers:
//
//  1. Kubernetes 1.30 structure: every field must exist in the 1.30 API
//     (unknown or misspelt fields, and fields newer than 1.30, are errors),
//     with the right JSON type, and required fields must be present. The
//     model is @kubernetes/client-node 0.22.3, generated from the release-1.30
//     OpenAPI document: field names and types from each model's
//     attributeTypeMap, required fields from its declarations (scripts/chart-tools.sh
//     fetches it; --model-dir).
//  2. The OpenAPI JSON schema of kubernetes-models (Kubernetes 1.33; no release
//     targets 1.30): enums (imagePullPolicy, protocol, ...), integer formats.
//     prometheus-operator's models for ServiceMonitor, whose unknown fields
//     are found with the field tree read from the model's type declarations.
//  3. A few rules the API server enforces beyond the schema, and references
//     between the objects: name syntax, label syntax, selectors matching pod
//     labels, mounts naming volumes, probes and Services naming container
//     ports, HPA and ServiceMonitor targets existing.
//
// Exit 0 when every object passes, 1 otherwise (each problem on stderr).
// --json writes all objects as one JSON array for the caller's assertions.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const args = process.argv.slice(2);
let nodeModules = "", modelDir = "", jsonOut = "";
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--node-modules") nodeModules = args[++i];
  else if (args[i] === "--model-dir") modelDir = args[++i];
  else if (args[i] === "--json") jsonOut = args[++i];
  else files.push(args[i]);
}
if (!nodeModules || !modelDir || files.length === 0) {
  console.error("usage: node validate.mjs --node-modules DIR --model-dir DIR [--json OUT] FILE...");
  process.exit(2);
}
const require = createRequire(path.join(path.dirname(path.resolve(nodeModules)), "package.json"));
const YAML = require("yaml");

const problems = [];
function problem(obj, where, msg) {
  const id = obj ? `${obj.kind ?? "?"}/${obj.metadata?.name ?? "?"}` : "?";
  problems.push(`${id}: ${where ? where + ": " : ""}${msg}`);
}

// ---- layer 1: the Kubernetes 1.30 model --------------------------------------

const modelCache = new Map();
function model(cls) {
  if (modelCache.has(cls)) return modelCache.get(cls);
  const base = path.join(modelDir, cls[0].toLowerCase() + cls.slice(1));
  let m = null;
  if (fs.existsSync(base + ".js")) {
    const mod = require(base + ".js");
    const attrs = mod[cls]?.attributeTypeMap;
    if (attrs) {
      const dts = fs.existsSync(base + ".d.ts") ? fs.readFileSync(base + ".d.ts", "utf8") : "";
      const required = new Set();
      for (const r of dts.matchAll(/^ {4}'([^']+)':/gm)) required.add(r[1]);
      m = { fields: new Map(attrs.map((a) => [a.baseName, a.type])), required };
    }
  }
  modelCache.set(cls, m);
  return m;
}

function classFor(apiVersion, kind) {
  const version = apiVersion.split("/").pop();
  return version[0].toUpperCase() + version.slice(1) + kind;
}

const typeName = (v) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

function checkType(obj, where, type, v, ctx) {
  let m;
  if (v === null) return problem(obj, where, `null where ${type} is expected`);
  if (type === "object" || type === "any") return;
  if (type === "string" || type === "Date") {
    if (typeof v !== "string") {
      // Quantities (resources) are strings in the model; the API server also takes numbers.
      if (!(ctx === "quantity" && typeof v === "number"))
        problem(obj, where, `expected string, got ${typeName(v)} ${JSON.stringify(v)}`);
    }
    return;
  }
  if (type === "number") {
    if (typeof v !== "number") problem(obj, where, `expected number, got ${typeName(v)} ${JSON.stringify(v)}`);
    return;
  }
  if (type === "boolean") {
    if (typeof v !== "boolean") problem(obj, where, `expected boolean, got ${typeName(v)} ${JSON.stringify(v)}`);
    return;
  }
  if (type === "IntOrString") {
    if (typeof v !== "number" && typeof v !== "string")
      problem(obj, where, `expected integer or string, got ${typeName(v)}`);
    return;
  }
  if ((m = /^Array<(.+)>$/.exec(type))) {
    if (!Array.isArray(v)) return problem(obj, where, `expected array, got ${typeName(v)}`);
    v.forEach((e, i) => checkType(obj, `${where}[${i}]`, m[1], e, ctx));
    return;
  }
  if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    if (typeName(v) !== "object") return problem(obj, where, `expected map, got ${typeName(v)}`);
    for (const [k, e] of Object.entries(v)) checkType(obj, `${where}.${k}`, m[1], e, ctx);
    return;
  }
  walkModel(obj, where, type, v);
}

function walkModel(obj, where, cls, v) {
  const m = model(cls);
  if (!m) return problem(obj, where, `no Kubernetes 1.30 model ${cls}`);
  if (typeName(v) !== "object") return problem(obj, where, `expected ${cls} object, got ${typeName(v)}`);
  for (const [k, e] of Object.entries(v)) {
    const p = where ? `${where}.${k}` : k;
    if (!m.fields.has(k)) {
      problem(obj, p, `unknown field "${k}" (not in Kubernetes 1.30 ${cls})`);
      continue;
    }
    const ctx = cls === "V1ResourceRequirements" ? "quantity" : undefined;
    checkType(obj, p, m.fields.get(k), e, ctx);
  }
  for (const r of m.required) {
    // status is never rendered; the model marks some top-level fields required that are not.
    if (r === "status") continue;
    if (!(r in v)) problem(obj, where || "(top)", `missing required field "${r}" (${cls})`);
  }
}

// ---- layer 2: kubernetes-models JSON schemas ---------------------------------

function modelsValidate(obj, modulePath) {
  let mod;
  try {
    mod = require(modulePath);
  } catch (e) {
    return problem(obj, "", `no kubernetes-models class ${modulePath}: ${e.message}`);
  }
  const Cls = mod[obj.kind];
  try {
    new Cls(obj).validate();
  } catch (e) {
    const errs = e.errors ?? [{ instancePath: "", message: e.message }];
    for (const x of errs) {
      const extra = x.params?.allowedValues ? ` (${x.params.allowedValues.join(", ")})` : "";
      problem(obj, x.instancePath || "(top)", `${x.message}${extra} [kubernetes-models]`);
    }
  }
}

// ServiceMonitor's field tree, read from the model's TypeScript declarations.
function dtsTree(file, iface) {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  let i = lines.findIndex((l) => l.startsWith(`export interface ${iface} {`));
  if (i < 0) throw new Error(`${iface} not found in ${file}`);
  function block() {
    const node = { fields: new Map(), map: null };
    for (i++; i < lines.length; i++) {
      const l = lines[i].trim();
      if (l.startsWith("}")) return node;
      let m;
      if ((m = /^"([^"]+)"\??: (.*)$/.exec(l))) {
        const rest = m[2];
        if (rest === "{") node.fields.set(m[1], block());
        else if (rest === "Array<{") node.fields.set(m[1], { array: block() });
        else node.fields.set(m[1], { leaf: rest.replace(/;$/, "") });
      } else if ((m = /^\[key: string\]: (.*)$/.exec(l))) {
        node.map = m[1] === "{" ? block() : { leaf: m[1].replace(/;$/, "") };
      } else {
        throw new Error(`${file}:${i + 1}: unexpected declaration: ${l}`);
      }
    }
    return node;
  }
  return block();
}

function walkTree(obj, where, node, v) {
  if (node.leaf !== undefined) {
    if (node.leaf === "IObjectMeta") walkModel(obj, where, "V1ObjectMeta", v);
    return; // leaf types are checked by the JSON schema (layer 2)
  }
  if (node.array) {
    if (Array.isArray(v)) v.forEach((e, i) => walkTree(obj, `${where}[${i}]`, node.array, e));
    return;
  }
  if (typeName(v) !== "object") return;
  for (const [k, e] of Object.entries(v)) {
    const p = where ? `${where}.${k}` : k;
    const f = node.fields.get(k) ?? node.map;
    if (!f) problem(obj, p, `unknown field "${k}"`);
    else walkTree(obj, p, f, e);
  }
}

const crds = {
  "monitoring.coreos.com/v1/ServiceMonitor": {
    module: "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor",
    dts: "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor.d.ts",
    iface: "IServiceMonitor",
  },
};

// ---- layer 3: API server rules and references --------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*$/;

function checkLabels(obj, where, labels, annotations) {
  for (const [k, v] of Object.entries(labels ?? {})) {
    const [prefix, name] = k.includes("/") ? k.split("/", 2) : ["", k];
    if ((prefix && (!DNS1123_SUBDOMAIN.test(prefix) || prefix.length > 253)) || !QUALIFIED_NAME.test(name) || name.length > 63)
      problem(obj, where, `invalid ${annotations ? "annotation" : "label"} key "${k}"`);
    if (!annotations && (typeof v !== "string" || !LABEL_VALUE.test(v) || v.length > 63))
      problem(obj, where, `invalid label value ${JSON.stringify(v)} for "${k}"`);
  }
}

function podSpecOf(o) {
  return ["DaemonSet", "Deployment", "StatefulSet", "ReplicaSet", "Job"].includes(o.kind) ? o.spec?.template?.spec : null;
}

function checkPodSpec(obj, spec, byKindName) {
  const where = "spec.template.spec";
  const volumes = new Map();
  for (const v of spec.volumes ?? []) {
    if (volumes.has(v.name)) problem(obj, `${where}.volumes`, `duplicate volume "${v.name}"`);
    volumes.set(v.name, v);
    if (v.configMap && !v.configMap.optional && !byKindName.has(`ConfigMap/${v.configMap.name}`))
      problem(obj, `${where}.volumes`, `configMap "${v.configMap.name}" is not part of the release`);
  }
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const names = new Set();
  for (const c of containers) {
    const cw = `${where}.containers[${c.name}]`;
    if (!DNS1123_LABEL.test(c.name ?? "")) problem(obj, cw, `invalid container name "${c.name}"`);
    if (names.has(c.name)) problem(obj, cw, "duplicate container name");
    names.add(c.name);
    const ports = new Map();
    for (const p of c.ports ?? []) {
      if (p.name !== undefined) {
        if (!IANA_SVC_NAME.test(p.name) || p.name.length > 15) problem(obj, cw, `invalid port name "${p.name}"`);
        if (ports.has(p.name)) problem(obj, cw, `duplicate port name "${p.name}"`);
        ports.set(p.name, p.containerPort);
      }
    }
    const mounts = new Set();
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) problem(obj, cw, `volumeMount "${m.name}" names no volume`);
      if (mounts.has(m.mountPath)) problem(obj, cw, `two mounts at ${m.mountPath}`);
      mounts.add(m.mountPath);
    }
    const envs = new Set();
    for (const e of c.env ?? []) {
      if (envs.has(e.name)) problem(obj, cw, `duplicate env "${e.name}"`);
      envs.add(e.name);
    }
    for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      const pr = c[probe];
      if (!pr) continue;
      const handlers = ["httpGet", "tcpSocket", "grpc", "exec"].filter((h) => pr[h]);
      if (handlers.length !== 1) problem(obj, `${cw}.${probe}`, `needs exactly one handler, has ${handlers.length}`);
      const port = pr.httpGet?.port ?? pr.tcpSocket?.port;
      if (typeof port === "string" && !ports.has(port)) problem(obj, `${cw}.${probe}`, `port "${port}" is not a container port name`);
      if (pr.grpc && ![...ports.values()].includes(pr.grpc.port))
        problem(obj, `${cw}.${probe}`, `grpc port ${pr.grpc.port} is not a container port`);
      if (probe !== "readinessProbe" && pr.successThreshold !== undefined && pr.successThreshold !== 1)
        problem(obj, `${cw}.${probe}`, "successThreshold must be 1");
    }
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation === false && (sc.privileged || (sc.capabilities?.add ?? []).includes("SYS_ADMIN")))
      problem(obj, `${cw}.securityContext`, "allowPrivilegeEscalation: false is refused with privileged or CAP_SYS_ADMIN");
  }
}

function labelsMatch(selector, labels) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

function crossChecks(objs) {
  const byKindName = new Map(objs.map((o) => [`${o.kind}/${o.metadata?.name}`, o]));
  const seen = new Set();
  for (const o of objs) {
    const key = `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
    if (seen.has(key)) problem(o, "", "rendered twice");
    seen.add(key);
    const name = o.metadata?.name ?? "";
    const nameRe = o.kind === "Service" ? DNS1035_LABEL : DNS1123_SUBDOMAIN;
    const max = o.kind === "Service" ? 63 : 253;
    if (!nameRe.test(name) || name.length > max) problem(o, "metadata.name", `invalid name "${name}" for a ${o.kind}`);
    checkLabels(o, "metadata.labels", o.metadata?.labels, false);
    checkLabels(o, "metadata.annotations", o.metadata?.annotations, true);
    const spec = podSpecOf(o);
    if (spec) {
      checkLabels(o, "spec.template.metadata.labels", o.spec.template.metadata?.labels, false);
      checkLabels(o, "spec.template.metadata.annotations", o.spec.template.metadata?.annotations, true);
      if (!labelsMatch(o.spec.selector?.matchLabels, o.spec.template.metadata?.labels))
        problem(o, "spec.selector", "does not match the pod template's labels");
      checkPodSpec(o, spec, byKindName);
    }
    if (o.kind === "Service" && o.spec?.selector) {
      const pods = objs.filter((w) => podSpecOf(w) && labelsMatch(o.spec.selector, w.spec.template.metadata?.labels));
      if (pods.length === 0) problem(o, "spec.selector", "selects no workload of the release");
      for (const p of o.spec.ports ?? []) {
        if (typeof p.targetPort !== "string") continue;
        for (const w of pods) {
          const names = podSpecOf(w).containers.flatMap((c) => (c.ports ?? []).map((cp) => cp.name));
          if (!names.includes(p.targetPort))
            problem(o, "spec.ports", `targetPort "${p.targetPort}" is not a port of ${w.kind}/${w.metadata.name}`);
        }
      }
    }
    if (o.kind === "HorizontalPodAutoscaler") {
      const t = o.spec?.scaleTargetRef;
      const target = t && byKindName.get(`${t.kind}/${t.name}`);
      if (!target) problem(o, "spec.scaleTargetRef", `${t?.kind}/${t?.name} is not part of the release`);
      else if (target.spec?.replicas !== undefined) problem(o, "spec.scaleTargetRef", "the target also sets spec.replicas (the HPA and helm upgrades would fight)");
    }
    if (o.kind === "ServiceMonitor") {
      const svcs = objs.filter((s) => s.kind === "Service" && labelsMatch(o.spec?.selector?.matchLabels, s.metadata?.labels));
      if (svcs.length !== 1) problem(o, "spec.selector", `selects ${svcs.length} Services of the release, expected exactly 1`);
      for (const e of o.spec?.endpoints ?? []) {
        for (const s of svcs)
          if (!(s.spec.ports ?? []).some((p) => p.name === e.port))
            problem(o, "spec.endpoints", `port "${e.port}" is not a port of Service ${s.metadata.name}`);
      }
    }
  }
}

// ---- main ------------------------------------------------------------------------

const objs = [];
for (const f of files) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(f, "utf8"));
  for (const d of docs) {
    if (d.errors.length) {
      problems.push(`${f}: YAML: ${d.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const o = d.toJS();
    if (o === null || o === undefined) continue;
    objs.push(o);
  }
}

for (const o of objs) {
  if (typeName(o) !== "object" || !o.apiVersion || !o.kind || !o.metadata?.name) {
    problem(o, "", "not a Kubernetes object (apiVersion, kind, metadata.name)");
    continue;
  }
  const crd = crds[`${o.apiVersion}/${o.kind}`];
  if (crd) {
    modelsValidate(o, crd.module);
    walkTree(o, "", dtsTree(path.join(nodeModules, crd.dts), crd.iface), o);
    continue;
  }
  const cls = classFor(o.apiVersion, o.kind);
  if (!model(cls)) {
    problem(o, "", `${o.apiVersion} ${o.kind} is not a Kubernetes 1.30 kind`);
    continue;
  }
  walkModel(o, "", cls, o);
  modelsValidate(o, `kubernetes-models/${o.apiVersion}/${o.kind}`);
}
crossChecks(objs.filter((o) => typeName(o) === "object"));

if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(objs, null, 1));
for (const p of problems) console.error(p);
console.log(`validate: ${objs.length} objects (${[...new Set(objs.map((o) => o.kind))].join(", ")}), ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
