#!/usr/bin/env bash
# Tests of the Helm chart charts/sentinel-ebpf, offline once the tools are
# fetched (scripts/chart-tools.sh, called here; needs the npm registry the
# first time only).
#
#   bash test/chart/test_chart.sh [SENTINEL_AGENT_BINARY]
#
#   - helm lint --strict with every value set in test/chart/values/;
#   - helm template for each value set, every object validated offline against
#     Kubernetes 1.30 (validate.mjs: unknown fields, types, required fields,
#     enums, name/label syntax, references between objects);
#   - assertions on what matters (hostPID, host mounts, ConfigMap mounted as a
#     directory, rules.yaml = the values' rules, checksum of agent-config.yaml
#     only, detector hardening, headless Service, HPA only when enabled, ...);
#   - values the schema or the templates must refuse;
#   - validate.mjs itself must catch the mistakes in fixtures/invalid.yaml;
#   - with an agent binary (argument or $SENTINEL_AGENT), the rendered
#     agent-config.yaml and rules.yaml pass `sentinel-agent --check`, and the
#     agent's effective settings equal the rendered ones.
#
# Prints PASS/FAIL per check and a summary; exit 0 only if all passed.
# jq filters are single-quoted on purpose: their $vars are jq's.
# shellcheck disable=SC2016
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CHART=${SENTINEL_CHART:-$ROOT/charts/sentinel-ebpf} # another copy: for testing the tests
VALUES_DIR=$HERE/values
AGENT_BIN=${1:-${SENTINEL_AGENT:-}}
NS=sentinel
REL=rel

started=$(date +%s)
passed=0
failed=0
skipped=0
failures=()

ok() {
	passed=$((passed + 1))
	printf 'PASS: %s\n' "$1"
}
bad() { # what [details]
	failed=$((failed + 1))
	failures+=("$1")
	printf 'FAIL: %s\n' "$1"
	if [ -n "${2:-}" ]; then printf '%s\n' "$2" | head -n 40 | sed 's/^/      /'; fi
}
# skip NAME REASON: the format of test/checks.sh, so that test/check_skips.sh
# holds every skip against test/skips.allow.
skip() {
	skipped=$((skipped + 1))
	printf 'SKIP %s: %s\n' "$1" "$2"
}
check() { # what expected actual
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "expected: $2"$'\n'"actual:   $3"; fi
}

# ---- tools -------------------------------------------------------------------

if ! tools=$(bash "$ROOT/scripts/chart-tools.sh"); then
	echo "FAIL: scripts/chart-tools.sh could not provide helm and the validators"
	echo "chart tests: 0 passed, 1 failed"
	exit 1
fi
HELM='' KUBECTL='' CHART_NODE_MODULES='' K8S_MODEL_DIR=''
while IFS='=' read -r key value; do
	case "$key" in
	HELM) HELM=$value ;;
	KUBECTL) KUBECTL=$value ;;
	CHART_NODE_MODULES) CHART_NODE_MODULES=$value ;;
	K8S_MODEL_DIR) K8S_MODEL_DIR=$value ;;
	esac
done <<<"$tools"
for v in HELM KUBECTL CHART_NODE_MODULES K8S_MODEL_DIR; do
	if [ -z "${!v}" ]; then
		echo "FAIL: scripts/chart-tools.sh printed no $v"
		exit 1
	fi
done
for c in jq node sha256sum; do
	command -v "$c" >/dev/null || {
		echo "FAIL: $c is needed"
		exit 1
	}
done
echo "helm: $("$HELM" version --short), kubectl: $("$KUBECTL" version --client 2>/dev/null | head -n1)"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

validate() { # out.json files...
	local out=$1
	shift
	node "$HERE/validate.mjs" --node-modules "$CHART_NODE_MODULES" --model-dir "$K8S_MODEL_DIR" \
		--json "$out" "$@"
}
yaml2json() { # file|-
	node "$HERE/yaml2json.mjs" --node-modules "$CHART_NODE_MODULES" "$1"
}

# render NAME [helm args...]: helm template into $WORK/NAME.yaml, then
# validate into $WORK/NAME.json. Both steps are checks.
render() {
	local name=$1 err
	shift
	if ! "$HELM" template "$REL" "$CHART" -n "$NS" --kube-version 1.30.0 "$@" \
		>"$WORK/$name.yaml" 2>"$WORK/$name.err"; then
		bad "render $name: helm template" "$(cat "$WORK/$name.err")"
		echo '[]' >"$WORK/$name.json"
		return 1
	fi
	ok "render $name: helm template"
	if err=$(validate "$WORK/$name.json" "$WORK/$name.yaml" 2>&1); then
		ok "render $name: Kubernetes 1.30 validation ($(tail -n1 <<<"$err" | sed 's/^validate: //'))"
	else
		bad "render $name: Kubernetes 1.30 validation" "$err"
	fi
}

# expect NAME what jq-filter [lib]: the filter must yield true on $WORK/NAME.json.
expect() {
	local name=$1 what=$2 filter=$3 lib=${4:-} got
	if got=$(jq -e "$lib $filter" "$WORK/$name.json" 2>&1); then
		ok "$name: $what"
	else
		bad "$name: $what" "jq: $filter"$'\n'"got: $got"
	fi
}

# refuse what expected-stderr-substring helm-args...: rendering must fail
# and say so.
refuse() {
	local what=$1 want=$2 out
	shift 2
	if out=$("$HELM" template "$REL" "$CHART" -n "$NS" "$@" 2>&1 >/dev/null); then
		bad "refused: $what" "helm template succeeded"
	elif ! grep -qF -- "$want" <<<"$out"; then
		bad "refused: $what" "error does not mention \"$want\":"$'\n'"$out"
	else
		ok "refused: $what ($(grep -F -- "$want" <<<"$out" | head -n1 | cut -c1-150))"
	fi
}

# Short jq helpers over the rendered object lists.
JQ_LIB='
def obj($k): [.[] | select(.kind == $k)];
def one($k): obj($k) | if length == 1 then .[0] else error("\(length) \($k) objects") end;
def ds: one("DaemonSet");
def agent: ds.spec.template.spec.containers[] | select(.name == "agent");
def det: one("Deployment");
def detc: det.spec.template.spec.containers[] | select(.name == "detector");
def cm: obj("ConfigMap") | map(select(.data["agent-config.yaml"])) | .[0];
def svc($n): obj("Service") | map(select(.metadata.name == $n)) | if length == 1 then .[0] else error("no Service \($n)") end;
def vol($n): ds.spec.template.spec.volumes[] | select(.name == $n);
def mount($n): agent.volumeMounts[] | select(.name == $n);
def env($c; $n): $c.env[] | select(.name == $n);
'
expect_lib() { expect "$1" "$2" "$3" "$JQ_LIB"; }

# One of the ConfigMap's two files, exactly, from a rendered list.
cm_file() { # name key
	jq -j --arg k "$2" '[.[] | select(.kind == "ConfigMap" and .data["agent-config.yaml"])][0].data[$k]' \
		"$WORK/$1.json"
}

FULL=$REL-sentinel-ebpf
HEADLESS=$FULL-detector-headless

# ---- lint --------------------------------------------------------------------

lint() { # what [helm args...]
	local what=$1 out
	shift
	if out=$("$HELM" lint --strict "$CHART" -n "$NS" "$@" 2>&1); then
		ok "helm lint --strict: $what"
	else
		bad "helm lint --strict: $what" "$out"
	fi
}
lint defaults
for f in "$VALUES_DIR"/*.yaml; do
	lint "$(basename "$f" .yaml)" -f "$f"
done
if "$HELM" lint --strict "$CHART" --set agent.strem.mode=grpc >/dev/null 2>&1; then
	bad "helm lint --strict: fails on a misspelt key"
else
	ok "helm lint --strict: fails on a misspelt key"
fi

# Every value the schema defines is documented in the chart's README table.
undocumented=$(node "$HERE/value-paths.mjs" "$CHART/values.schema.json" | while IFS= read -r key; do
	grep -qF -- "| \`$key\` |" "$CHART/README.md" || printf '%s ' "$key"
done)
check "README.md documents every value in values.schema.json" "" "$undocumented"

# The packaged chart carries the schema and the dashboard.
if out=$("$HELM" package "$CHART" -d "$WORK/pkg" 2>&1) &&
	tar -tzf "$WORK"/pkg/sentinel-ebpf-*.tgz >"$WORK/pkg.list" 2>&1; then
	missing=$(for f in values.schema.json dashboards/sentinel-ebpf.json README.md templates/NOTES.txt; do
		grep -qx "sentinel-ebpf/$f" "$WORK/pkg.list" || printf '%s ' "$f"
	done)
	check "helm package: the archive has the schema, dashboard, README and NOTES" "" "$missing"
else
	bad "helm package" "$out"
fi

# ---- the validator itself ------------------------------------------------------

if out=$(validate "$WORK/invalid.json" "$HERE/fixtures/invalid.yaml" 2>&1); then
	bad "validate.mjs rejects fixtures/invalid.yaml" "it passed"
else
	ok "validate.mjs rejects fixtures/invalid.yaml"
fi
while IFS= read -r want; do
	[ -n "$want" ] || continue
	if grep -qF -- "$want" <<<"$out"; then
		ok "validate.mjs reports: $want"
	else
		bad "validate.mjs reports: $want" "$out"
	fi
done <"$HERE/fixtures/invalid.expect"

# ---- defaults ------------------------------------------------------------------

render defaults
expect defaults "objects: 2 ServiceAccounts, ConfigMap, DaemonSet, Deployment, PodDisruptionBudget, 3 Services, nothing else" \
	'[.[].kind] | sort == ["ConfigMap","DaemonSet","Deployment","PodDisruptionBudget","Service","Service","Service","ServiceAccount","ServiceAccount"]'
expect defaults "no RBAC objects" \
	'[.[] | select(.kind | test("Role"))] | length == 0'
expect_lib defaults "DaemonSet: hostPID" 'ds.spec.template.spec.hostPID == true'
expect_lib defaults "DaemonSet: privileged by default" 'agent.securityContext.privileged == true'
for pair in lib-modules:/lib/modules usr-src:/usr/src debugfs:/sys/kernel/debug tracefs:/sys/kernel/tracing; do
	v=${pair%%:*} p=${pair#*:}
	expect_lib defaults "DaemonSet: hostPath $p (type Directory) mounted read-only at $p" \
		"(vol(\"$v\").hostPath == {path: \"$p\", type: \"Directory\"}) and mount(\"$v\").mountPath == \"$p\" and mount(\"$v\").readOnly == true"
done
# Pod names (agent.pods): the directory above {id} of each bundle path,
# read-only, HostToContainer (containers' rootfs mounts live under them).
for pair in 0:/run/containerd/io.containerd.runtime.v2.task/k8s.io 1:/run/containers/storage/overlay-containers \
	2:/var/lib/containers/storage/overlay-containers; do
	v=bundles-${pair%%:*} p=${pair#*:}
	expect_lib defaults "DaemonSet: runtime bundles $p mounted read-only, HostToContainer" \
		"(vol(\"$v\").hostPath == {path: \"$p\", type: \"DirectoryOrCreate\"}) and mount(\"$v\").mountPath == \"$p\" and mount(\"$v\").readOnly == true and mount(\"$v\").mountPropagation == \"HostToContainer\""
done
expect_lib defaults "DaemonSet: every hostPath volume is mounted read-only" \
	'[ds.spec.template.spec.volumes[] | select(.hostPath) | .name] as $h | [agent.volumeMounts[] | select(.name as $n | $h | index($n)) | .readOnly] | all'
expect_lib defaults "DaemonSet: read-only root file system" 'agent.securityContext.readOnlyRootFilesystem == true'
expect_lib defaults "DaemonSet: the ConfigMap mounted as a directory at /etc/sentinel-ebpf" \
	"vol(\"config\").configMap.name == \"$FULL-agent\" and mount(\"config\").mountPath == \"/etc/sentinel-ebpf\""
expect_lib defaults "DaemonSet: no subPath mounts (they never update)" '[agent.volumeMounts[] | select(has("subPath") or has("subPathExpr"))] | length == 0'
expect_lib defaults "DaemonSet: AGENT_CONFIG=/etc/sentinel-ebpf/agent-config.yaml" \
	'env(agent; "AGENT_CONFIG").value == "/etc/sentinel-ebpf/agent-config.yaml"'
expect_lib defaults "DaemonSet: NODE_NAME from spec.nodeName" \
	'env(agent; "NODE_NAME").valueFrom.fieldRef.fieldPath == "spec.nodeName"'
expect_lib defaults "DaemonSet: liveness GET /healthz, readiness GET /readyz on the health port 9101" \
	'(agent.ports[] | select(.name == "health") | .containerPort) == 9101 and agent.livenessProbe.httpGet == {path: "/healthz", port: "health"} and agent.readinessProbe.httpGet == {path: "/readyz", port: "health"} and agent.startupProbe.httpGet.path == "/healthz"'
expect_lib defaults "DaemonSet: metrics port 9102" '(agent.ports[] | select(.name == "metrics") | .containerPort) == 9102'
expect_lib defaults "DaemonSet: tolerates every taint" 'ds.spec.template.spec.tolerations == [{operator: "Exists"}]'
expect_lib defaults "DaemonSet: RollingUpdate" 'ds.spec.updateStrategy.type == "RollingUpdate"'
expect_lib defaults "DaemonSet: terminationGracePeriodSeconds set" 'ds.spec.template.spec.terminationGracePeriodSeconds >= 10'
expect_lib defaults "DaemonSet: amd64 Linux nodes only" \
	'ds.spec.template.spec.nodeSelector == {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}'
expect_lib defaults "no service account tokens mounted (pods and ServiceAccounts)" \
	'[ds.spec.template.spec, det.spec.template.spec, obj("ServiceAccount")[] | .automountServiceAccountToken] | all(. == false)'
expect_lib defaults "standard labels on every object" \
	'[.[] | .metadata.labels | has("helm.sh/chart") and has("app.kubernetes.io/name") and has("app.kubernetes.io/instance") and has("app.kubernetes.io/version") and has("app.kubernetes.io/managed-by")] | all'

# rules.yaml equals the values' rules; the pod template has the checksum of
# agent-config.yaml and of nothing else.
cm_file defaults rules.yaml >"$WORK/rules.yaml"
cm_file defaults agent-config.yaml >"$WORK/agent-config.yaml"
check "defaults: rules.yaml in the ConfigMap = the values' rules" \
	"$(yaml2json "$CHART/values.yaml" | jq -S '{rules}')" "$(yaml2json "$WORK/rules.yaml" | jq -S .)"
expect_lib defaults "DaemonSet: checksum/agent-config = sha256 of the ConfigMap's agent-config.yaml" \
	"ds.spec.template.metadata.annotations[\"checksum/agent-config\"] == \"$(sha256sum <"$WORK/agent-config.yaml" | cut -d' ' -f1)\""
expect_lib defaults "DaemonSet: no checksum of rules.yaml or of the whole ConfigMap on the pod template" \
	'[ds.spec.template.metadata.annotations | keys[] | select(startswith("checksum/"))] == ["checksum/agent-config"]'
agent_cfg=$(yaml2json "$WORK/agent-config.yaml")
check "defaults: agent-config.yaml: mode grpc to the headless Service" \
	"grpc dns:///$HEADLESS.$NS.svc.cluster.local:50051" "$(jq -r '"\(.stream.mode) \(.grpc.endpoint)"' <<<"$agent_cfg")"
# agent-config.yaml, value for value and type for type, from config.* and agent.*.
expected_agent_config() { # endpoint tls-dir [values-file]
	local merged
	merged=$(yaml2json "$CHART/values.yaml")
	if [ -n "${3:-}" ]; then merged=$(jq -s '.[0] * .[1]' <(echo "$merged") <(yaml2json "$3")); fi
	jq -S --arg ep "$1" --arg dir "$2" '
		def file($k): if .agent.grpc.tls.enabled and $k != "" then "\($dir)/\($k)" else "" end;
		{logLevel: .config.logLevel, health: .config.health, metrics: .config.metrics, allowEmptyRules: .config.allowEmptyRules,
		 rulesFile: "/etc/sentinel-ebpf/rules.yaml", stream: .agent.stream, probe: .agent.probe, pods: .agent.pods,
		 grpc: {endpoint: $ep, ackTimeoutSeconds: .agent.grpc.ackTimeoutSeconds, tls: {enabled: .agent.grpc.tls.enabled, caFile: file(.agent.grpc.tls.caKey),
		        certFile: file(.agent.grpc.tls.certKey), keyFile: file(.agent.grpc.tls.keyKey)}}}' <<<"$merged"
}
check "defaults: agent-config.yaml = config.* and agent.* (values and types)" \
	"$(expected_agent_config "dns:///$HEADLESS.$NS.svc.cluster.local:50051" /etc/sentinel-ebpf-tls)" \
	"$(jq -S . <<<"$agent_cfg")"

# Detector.
expect_lib defaults "detector: 2 replicas" 'det.spec.replicas == 2'
expect_lib defaults "detector: pod runAsNonRoot, non-zero UID, seccomp RuntimeDefault" \
	'det.spec.template.spec.securityContext | .runAsNonRoot == true and .runAsUser > 0 and .seccompProfile.type == "RuntimeDefault"'
expect_lib defaults "detector: read-only root, no privilege escalation, all capabilities dropped" \
	'detc.securityContext | .readOnlyRootFilesystem == true and .allowPrivilegeEscalation == false and .capabilities.drop == ["ALL"] and (.capabilities.add // [] | length == 0) and .runAsNonRoot == true'
expect_lib defaults "detector: gRPC liveness and readiness probes on 50051" \
	'detc.livenessProbe.grpc.port == 50051 and detc.readinessProbe.grpc.port == 50051'
expect_lib defaults "detector: ports grpc 50051, metrics 9103; DETECTOR_PORT, DETECTOR_METRICS_PORT" \
	'([detc.ports[] | {(.name): .containerPort}] | add) == {grpc: 50051, metrics: 9103} and env(detc; "DETECTOR_PORT").value == "50051" and env(detc; "DETECTOR_METRICS_PORT").value == "9103"'
expect_lib defaults "detector: reference scorer settings as env" \
	'env(detc; "DETECTOR_SENSITIVE_PREFIXES").value == "/etc,/bin,/usr,/sbin,/boot" and env(detc; "DETECTOR_LOG_LEVEL").value == "info"'
expect_lib defaults "detector: headless Service (clusterIP None) with the grpc port" \
	"svc(\"$HEADLESS\") | .spec.clusterIP == \"None\" and .spec.ports[0].port == 50051 and .spec.ports[0].targetPort == \"grpc\""
expect_lib defaults "detector: ClusterIP Service with grpc and metrics" \
	"svc(\"$FULL-detector\") | (.spec.type == \"ClusterIP\") and ([.spec.ports[].name] == [\"grpc\", \"metrics\"])"
expect_lib defaults "agent: headless metrics Service" \
	"svc(\"$FULL-agent\") | .spec.clusterIP == \"None\" and .spec.ports[0].targetPort == \"metrics\""
expect_lib defaults "no HPA, ServiceMonitor, dashboard or NetworkPolicy unless enabled" \
	'[.[] | select(.kind == "HorizontalPodAutoscaler" or .kind == "ServiceMonitor" or .kind == "NetworkPolicy" or (.metadata.name | endswith("-dashboard")))] | length == 0'
# Production defaults: a node agent is not evicted first; two detectors are
# not drained together and prefer different nodes.
expect_lib defaults "agent: priorityClassName system-node-critical" \
	'ds.spec.template.spec.priorityClassName == "system-node-critical"'
expect_lib defaults "detector (2 replicas): a PDB, minAvailable 1, selecting the detector pods" \
	'det as $d | one("PodDisruptionBudget") | .spec.minAvailable == 1 and (.spec.selector.matchLabels | to_entries | all(. as $e | $d.spec.template.metadata.labels[$e.key] == $e.value))'
expect_lib defaults "detector (2 replicas): spread over nodes, soft" \
	'det.spec.template.spec.topologySpreadConstraints == [{maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: {matchLabels: det.spec.selector.matchLabels}}]'
expect_lib defaults "agent: rolling update one node at a time" \
	'ds.spec.updateStrategy.rollingUpdate.maxUnavailable == 1'
render one-detector --set detector.replicaCount=1
expect_lib one-detector "detector (1 replica): no PDB (it would block every drain), no spread" \
	'(obj("PodDisruptionBudget") | length == 0) and (det.spec.template.spec.topologySpreadConstraints == null)'
render hpa-min3 --set detector.replicaCount=1 --set detector.autoscaling.enabled=true --set detector.autoscaling.minReplicas=3
expect_lib hpa-min3 "detector (HPA, min 3 of replicaCount 1): PDB and spread follow the HPA's minimum" \
	'(obj("PodDisruptionBudget") | length == 1) and (det.spec.template.spec.topologySpreadConstraints | length == 1)'
render fleet --set agent.updateStrategy.rollingUpdate.maxUnavailable=10% --set agent.priorityClassName=
expect_lib fleet "agent: maxUnavailable as a percentage; priorityClassName \"\" renders none" \
	'ds.spec.updateStrategy.rollingUpdate.maxUnavailable == "10%" and ds.spec.template.spec.priorityClassName == null'
render netpol --set detector.networkPolicy.enabled=true \
	--set-json 'detector.networkPolicy.metricsFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}]'
expect_lib netpol "NetworkPolicy: gRPC only from this release's agent pods, metrics only from metricsFrom" \
	'det as $d | ds as $a | one("NetworkPolicy") | .spec.podSelector.matchLabels == $d.spec.selector.matchLabels and .spec.policyTypes == ["Ingress"] and (.spec.ingress[0] | .ports == [{port: "grpc", protocol: "TCP"}] and .from == [{podSelector: {matchLabels: $a.spec.selector.matchLabels}}]) and (.spec.ingress[1] | .ports == [{port: "metrics", protocol: "TCP"}] and .from == [{namespaceSelector: {matchLabels: {"kubernetes.io/metadata.name": "monitoring"}}}])'
render netpol-open --set detector.networkPolicy.enabled=true
expect_lib netpol-open "NetworkPolicy: metrics from anywhere when metricsFrom is empty" \
	'one("NetworkPolicy") | .spec.ingress[1].from == null'

# A rules change must not roll the DaemonSet; a config change must.
render rules-changed --set-json 'rules=[{"name":"only","event":"file_read","match":{"comms":["cat"]}}]'
check "rules change: the DaemonSet is unchanged (no restart; the agents reload rules.yaml)" \
	"$(jq -S '.[] | select(.kind == "DaemonSet")' "$WORK/defaults.json")" \
	"$(jq -S '.[] | select(.kind == "DaemonSet")' "$WORK/rules-changed.json")"
check "rules change: rules.yaml has the new rules" \
	'{"rules":[{"event":"file_read","match":{"comms":["cat"]},"name":"only"}]}' \
	"$(cm_file rules-changed rules.yaml | yaml2json - | jq -cS .)"
render allow-empty --set config.allowEmptyRules=true --set-json 'rules=[]'
check "config.allowEmptyRules=true: no rules accepted, and the agents told" \
	'{"allowEmptyRules":true,"rules":[]}' \
	"$(jq -cn --argjson c "$(cm_file allow-empty agent-config.yaml | yaml2json -)" \
		--argjson r "$(cm_file allow-empty rules.yaml | yaml2json -)" \
		'{allowEmptyRules: $c.allowEmptyRules, rules: $r.rules}')"
render config-changed --set config.logLevel=debug
a=$(jq -r '.[] | select(.kind == "DaemonSet") | .spec.template.metadata.annotations["checksum/agent-config"]' "$WORK/defaults.json")
b=$(jq -r '.[] | select(.kind == "DaemonSet") | .spec.template.metadata.annotations["checksum/agent-config"]' "$WORK/config-changed.json")
if [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]; then
	ok "config change: the checksum on the pod template changes (agents restart)"
else
	bad "config change: the checksum on the pod template changes (agents restart)" "$a vs $b"
fi

# ---- other value sets ----------------------------------------------------------

render stdout -f "$VALUES_DIR/stdout-no-detector.yaml"
expect stdout "no detector objects" '[.[] | select(.metadata.labels["app.kubernetes.io/component"] == "detector")] | length == 0'
expect_lib stdout "DaemonSet still rendered" 'ds | .kind == "DaemonSet"'
expect_lib stdout "agent.pods.enabled=false: no runtime bundle mounted" \
	'[ds.spec.template.spec.volumes[] | select(.name | startswith("bundles-"))] | length == 0'
check "stdout: agent-config.yaml mode stdout, no endpoint" "stdout " \
	"$(cm_file stdout agent-config.yaml | yaml2json - | jq -r '"\(.stream.mode) \(.grpc.endpoint)"')"

render hpa -f "$VALUES_DIR/hpa.yaml"
expect_lib hpa "HPA autoscaling/v2 on the detector Deployment, 3..12 at 60% CPU" \
	"one(\"HorizontalPodAutoscaler\") | .apiVersion == \"autoscaling/v2\" and .spec.scaleTargetRef == {apiVersion: \"apps/v1\", kind: \"Deployment\", name: \"$FULL-detector\"} and .spec.minReplicas == 3 and .spec.maxReplicas == 12 and .spec.metrics[0].resource.target.averageUtilization == 60"
expect_lib hpa "Deployment leaves replicas to the HPA" 'det.spec | has("replicas") | not'
expect_lib hpa "PodDisruptionBudget minAvailable 2" 'one("PodDisruptionBudget").spec.minAvailable == 2'

render external -f "$VALUES_DIR/external-detector.yaml"
expect external "no detector objects" '[.[] | select(.metadata.labels["app.kubernetes.io/component"] == "detector")] | length == 0'
check "external: agent-config.yaml points at the external detector, with mTLS files" \
	"dns:///detector.security.svc.cluster.local:50051 true /etc/sentinel-ebpf-tls/ca.crt /etc/sentinel-ebpf-tls/tls.crt /etc/sentinel-ebpf-tls/tls.key" \
	"$(cm_file external agent-config.yaml | yaml2json - | jq -r '[.grpc.endpoint, .grpc.tls.enabled, .grpc.tls.caFile, .grpc.tls.certFile, .grpc.tls.keyFile] | join(" ")')"
expect_lib external "the TLS Secret is mounted read-only at /etc/sentinel-ebpf-tls" \
	'vol("tls").secret.secretName == "sentinel-agent-tls" and mount("tls").mountPath == "/etc/sentinel-ebpf-tls" and mount("tls").readOnly == true'

render capabilities -f "$VALUES_DIR/capabilities.yaml"
expect_lib capabilities "agent not privileged; drops ALL, adds BPF PERFMON SYS_RESOURCE SYS_ADMIN SYS_PTRACE DAC_READ_SEARCH" \
	'agent.securityContext | .privileged == false and .capabilities.drop == ["ALL"] and .capabilities.add == ["BPF","PERFMON","SYS_RESOURCE","SYS_ADMIN","SYS_PTRACE","DAC_READ_SEARCH"]'
expect_lib capabilities "seccomp and AppArmor Unconfined (bpf/perf_event_open, /proc of other processes)" \
	'agent.securityContext | .seccompProfile.type == "Unconfined" and .appArmorProfile.type == "Unconfined"'
expect_lib capabilities "priorityClassName system-node-critical" 'ds.spec.template.spec.priorityClassName == "system-node-critical"'
expect_lib defaults "privileged mode sets no capabilities or profiles" \
	'agent.securityContext | has("capabilities") or has("seccompProfile") or has("appArmorProfile") | not'

render monitoring -f "$VALUES_DIR/monitoring.yaml"
expect_lib monitoring "ServiceMonitors for agent and detector, with the Prometheus selector label" \
	"[obj(\"ServiceMonitor\")[] | {n: .metadata.name, l: .metadata.labels.release, i: .spec.endpoints[0].interval}] == [{n: \"$FULL-agent\", l: \"kube-prometheus-stack\", i: \"15s\"}, {n: \"$FULL-detector\", l: \"kube-prometheus-stack\", i: \"15s\"}]"
expect_lib monitoring "dashboard ConfigMap labelled grafana_dashboard=1, folder annotation" \
	"[obj(\"ConfigMap\")[] | select(.metadata.name == \"$FULL-dashboard\")][0] | .metadata.labels.grafana_dashboard == \"1\" and .metadata.annotations.grafana_folder == \"Security\""
jq -r ".[] | select(.metadata.name == \"$FULL-dashboard\") | .data[\"sentinel-ebpf.json\"]" "$WORK/monitoring.json" >"$WORK/dashboard.json"
if jq -e '.panels | length >= 7' "$WORK/dashboard.json" >/dev/null 2>&1; then
	ok "dashboard: valid JSON with $(jq '.panels | length' "$WORK/dashboard.json") panels"
else
	bad "dashboard: valid JSON with panels" "$(head -c 300 "$WORK/dashboard.json")"
fi
exprs=$(jq -r '.. | .expr? // empty' "$WORK/dashboard.json" 2>/dev/null)
for want in 'rate(sentinel_agent_events_total' 'by (event_type)' 'sentinel_agent_kernel_dropped_total' 'by (reason)' \
	'sentinel_agent_perf_lost_total' 'sentinel_agent_queue_dropped_total' \
	'histogram_quantile(0.99, sum by (le) (rate(sentinel_agent_event_latency_seconds_bucket' \
	'histogram_quantile(0.99, sum by (le) (rate(sentinel_detector_event_latency_seconds_bucket' \
	'rate(sentinel_detector_anomalies_total[5m])' 'sentinel_agent_grpc_connected' 'sentinel_agent_queue_depth' \
	'sentinel_agent_rule_matches_total'; do
	if grep -qF -- "$want" <<<"$exprs"; then ok "dashboard: a panel queries $want"; else bad "dashboard: a panel queries $want"; fi
done

REL_LONG='a-very-long-release-name-for-sentinel-ebpf-tests'
FULL_LONG=${REL_LONG:0:45} # names are cut to 45 characters, then a trailing "-"
if "$HELM" template "$REL_LONG" "$CHART" -n "$NS" --kube-version 1.30.0 -f "$VALUES_DIR/full.yaml" >"$WORK/full.yaml" 2>"$WORK/full.err"; then
	ok "render full (long release name): helm template"
	if out=$(validate "$WORK/full.json" "$WORK/full.yaml" 2>&1); then
		ok "render full: Kubernetes 1.30 validation ($(tail -n1 <<<"$out" | sed 's/^validate: //'))"
	else
		bad "render full: Kubernetes 1.30 validation" "$out"
	fi
else
	bad "render full (long release name): helm template" "$(cat "$WORK/full.err")"
	echo '[]' >"$WORK/full.json"
fi
check "full: agent-config.yaml = config.* and agent.* (values and types)" \
	"$(expected_agent_config "dns:///${FULL_LONG%-}-detector-headless.$NS.svc.cluster.local:50051" /etc/sentinel-ebpf-tls "$VALUES_DIR/full.yaml")" \
	"$(cm_file full agent-config.yaml | yaml2json - | jq -S .)"
expect_lib full "Service names fit 63 characters" '[obj("Service")[].metadata.name | length <= 63] | all'
expect_lib full "one bundle path: its directory mounted, nothing else" \
	'[ds.spec.template.spec.volumes[] | select(.name | startswith("bundles-")) | .hostPath.path] == ["/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io"]'
expect_lib full "detector with TLS: probes use /healthz on the metrics port (kubelet gRPC probes are plaintext)" \
	'detc.livenessProbe.httpGet == {path: "/healthz", port: "metrics"} and detc.readinessProbe.httpGet == {path: "/healthz", port: "metrics"} and env(detc; "DETECTOR_TLS_CLIENT_CA").value == "/etc/sentinel-detector-tls/ca.crt"'
expect_lib full "large integers are rendered as integers" \
	'cm.data["agent-config.yaml"] | test("fdTableSize: 16777216\n") and test("ringBufferKiB: 1048576\n") and test("burst: 100000000\n") and (test("e\\+0") | not)'
expect_lib full "extra args, env, volumes; commonLabels everywhere" \
	'detc.args == ["--max-connection-age-s", "120"] and env(agent; "EXTRA").value == "1" and mount("kheaders").readOnly == true and ([.[].metadata.labels.team] | all(. == "security"))'
expect_lib full "ServiceMonitors and dashboard in the monitoring namespace, selecting the release namespace" \
	"[obj(\"ServiceMonitor\")[] | .metadata.namespace == \"monitoring\" and .spec.namespaceSelector.matchNames == [\"$NS\"]] | all"

# ---- NOTES.txt ---------------------------------------------------------------------

# helm template skips NOTES.txt and helm install needs a cluster: render it
# through tpl in a copy of the chart, for each value set.
cp -r "$CHART" "$WORK/notes-chart"
cp "$CHART/templates/NOTES.txt" "$WORK/notes-chart/notes.txt"
printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' 'metadata: {name: notes}' 'data:' \
	'  notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}' >"$WORK/notes-chart/templates/zz-notes.yaml"
notes() { # want-substring helm-args...
	local want=$1 out
	shift
	if ! out=$("$HELM" template "$REL" "$WORK/notes-chart" -n "$NS" --show-only templates/zz-notes.yaml "$@" 2>&1); then
		bad "NOTES.txt renders with ${*:-the defaults}" "$out"
		return
	fi
	out=$(jq -Rr 'select(startswith("  notes: ")) | sub("^  notes: "; "") | fromjson' <<<"$out")
	if grep -qF -- "$want" <<<"$out"; then
		ok "NOTES.txt renders with ${*:-the defaults}: says \"$want\""
	else
		bad "NOTES.txt renders with ${*:-the defaults}: says \"$want\"" "$out"
	fi
}
notes "events go to dns:///$HEADLESS.$NS.svc.cluster.local:50051"
notes "Mode stdout" -f "$VALUES_DIR/stdout-no-detector.yaml"
notes "events go to dns:///detector.security.svc.cluster.local:50051" -f "$VALUES_DIR/external-detector.yaml"
notes "unprivileged with capabilities BPF, PERFMON" -f "$VALUES_DIR/capabilities.yaml"
notes "detector on :9103/metrics" -f "$VALUES_DIR/monitoring.yaml"
notes "agents on :8102/metrics" -f "$VALUES_DIR/full.yaml"

# ---- refused values --------------------------------------------------------------

refuse "Kubernetes 1.26 (gRPC probes need 1.27)" "kubeVersion" --kube-version 1.26.0
refuse "misspelt key agent.strem.mode" "strem" --set agent.strem.mode=grpc
refuse "misspelt top-level key" "detecter" --set detecter.enabled=false
refuse "config.health.port=abc (not an integer)" "port" --set config.health.port=abc
refuse "config.metrics.port=70000 (out of range)" "port" --set config.metrics.port=70000
refuse "agent.stream.mode=kafka" "mode" --set agent.stream.mode=kafka
refuse "config.logLevel=verbose" "logLevel" --set config.logLevel=verbose
refuse "agent.image.pullPolicy=Sometimes" "pullPolicy" --set agent.image.pullPolicy=Sometimes
refuse "agent.probe.ringBufferKiB not a power of two" "ringBufferKiB" --set agent.probe.ringBufferKiB=1000
refuse "agent.probe.rateLimit.eventsPerSecond above 1000000" "eventsPerSecond" \
	--set agent.probe.rateLimit.eventsPerSecond=2000000
refuse "a misspelt agent.probe.rateLimit key" "eventsPerSec" --set agent.probe.rateLimit.eventsPerSec=10
refuse "a rule with an unknown event" "event" --set-json 'rules=[{"name":"x","event":"file_wrte"}]'
refuse "a rule with a misspelt key" "pathPrefix" --set-json 'rules=[{"name":"x","event":"file_read","match":{"pathPrefix":["/etc"]}}]'
refuse "a relative path prefix" "pathPrefixes" --set-json 'rules=[{"name":"x","event":"file_read","match":{"pathPrefixes":["etc/"]}}]'
refuse "no rules (the agents would watch nothing)" "rules" --set-json 'rules=[]'
refuse "every rule disabled" "rules" --set-json 'rules=[{"name":"x","event":"file_read","enabled":false}]'
refuse "config.allowEmptyRules not a boolean" "allowEmptyRules" --set config.allowEmptyRules=maybe
refuse "detector running as root" "runAsUser" --set detector.runAsUser=0
refuse "an unknown capability" "capabilities" --set agent.privileged=false --set 'agent.capabilities={BPF,SYS_ADMN}'
refuse "detector.enabled=false in grpc mode without an endpoint" \
	"agent.grpc.endpoint is required when detector.enabled=false and agent.stream.mode=grpc" --set detector.enabled=false
refuse "agent TLS without a Secret" "agent.grpc.tls.secretName is required" --set agent.grpc.tls.enabled=true
refuse "detector TLS while the agents speak plaintext" "agent.grpc.tls.enabled=false" \
	--set detector.tls.enabled=true --set detector.tls.secretName=s
refuse "HPA without a CPU request" "detector.resources.requests.cpu" \
	--set detector.autoscaling.enabled=true --set detector.resources.requests.cpu=null
refuse "HPA min above max" "minReplicas" \
	--set detector.autoscaling.enabled=true --set detector.autoscaling.minReplicas=5 --set detector.autoscaling.maxReplicas=2
refuse "health and metrics on one port" "must differ" --set config.metrics.port=9101
refuse "a relative bundle path" "agent.pods.bundlePaths.0" --set-json 'agent.pods.bundlePaths=["run/{id}/config.json"]'
refuse "a bundle path without {id}" "agent.pods.bundlePaths.0" --set-json 'agent.pods.bundlePaths=["/run/config.json"]'
refuse "a misspelt agent.pods key" "bundlepaths" --set-json 'agent.pods.bundlepaths=[]'

# ---- the agent's own parser --------------------------------------------------------

if [ -n "$AGENT_BIN" ] && [ -x "$AGENT_BIN" ]; then
	for name in defaults stdout external capabilities full rules-changed; do
		cm_file "$name" agent-config.yaml >"$WORK/$name.agent-config.yaml"
		cm_file "$name" rules.yaml >"$WORK/$name.rules.yaml"
		if out=$("$AGENT_BIN" --check --config "$WORK/$name.agent-config.yaml" --rules "$WORK/$name.rules.yaml" 2>&1); then
			ok "$name: sentinel-agent --check accepts agent-config.yaml and rules.yaml"
			# The effective settings (before the rules' "# source:" line) are the rendered ones.
			check "$name: the agent's effective settings = agent-config.yaml" \
				"$(yaml2json "$WORK/$name.agent-config.yaml" | jq -S .)" \
				"$(sed '/^# source:/,$d' <<<"$out" | yaml2json - | jq -S .)"
			check "$name: the agent loads every rule" \
				"$(yaml2json "$WORK/$name.rules.yaml" | jq '.rules | length')" \
				"$(sed -n 's/^# [0-9]* enabled of \([0-9]*\) rules$/\1/p' <<<"$out")"
		else
			bad "$name: sentinel-agent --check accepts agent-config.yaml and rules.yaml" "$out"
		fi
	done
else
	skip "sentinel-agent --check on the rendered files" \
		"no agent binary (pass it as argument or \$SENTINEL_AGENT)"
fi

# kubectl apply --dry-run=client still asks an API server for discovery and
# OpenAPI (there is no offline mode); the schema checks above stand in for it.
if "$KUBECTL" version --client >/dev/null 2>&1; then
	skip "kubectl apply --dry-run=client" \
		"needs an API server (validate.mjs covers the schema offline)"
else
	bad "kubectl $KUBECTL runs"
fi

# ---- summary ---------------------------------------------------------------------

echo
if [ "$failed" -gt 0 ]; then
	echo "Failed checks:"
	printf '  %s\n' "${failures[@]}"
fi
echo "chart tests: $([ "$failed" -eq 0 ] && echo PASS || echo FAIL) in $(($(date +%s) - started)) s"
echo "chart: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
