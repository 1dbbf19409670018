{{/* Names, labels and the settings every template shares. */}}

{{- define "sentinel-ebpf.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name. Component names append a suffix, so the
prefix is cut to leave room for the longest ("-detector-headless", 18
characters) within the 63 characters a Service name may have.
*/}}
{{- define "sentinel-ebpf.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 45 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 45 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 45 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sentinel-ebpf.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sentinel-ebpf.agent.fullname" -}}
{{- printf "%s-agent" (include "sentinel-ebpf.fullname" .) }}
{{- end }}

{{- define "sentinel-ebpf.detector.fullname" -}}
{{- printf "%s-detector" (include "sentinel-ebpf.fullname" .) }}
{{- end }}

{{- define "sentinel-ebpf.detector.headless" -}}
{{- printf "%s-detector-headless" (include "sentinel-ebpf.fullname" .) }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "sentinel-ebpf.labels" -}}
helm.sh/chart: {{ include "sentinel-ebpf.chart" . }}
app.kubernetes.io/name: {{ include "sentinel-ebpf.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sentinel-ebpf
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of a component: include with (list $ "agent"). */}}
{{- define "sentinel-ebpf.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "sentinel-ebpf.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* All labels of a component's objects: include with (list $ "agent"). */}}
{{- define "sentinel-ebpf.componentLabels" -}}
{{ include "sentinel-ebpf.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "sentinel-ebpf.agent.serviceAccountName" -}}
{{- if .Values.agent.serviceAccount.create }}
{{- default (include "sentinel-ebpf.agent.fullname" .) .Values.agent.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.agent.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sentinel-ebpf.detector.serviceAccountName" -}}
{{- if .Values.detector.serviceAccount.create }}
{{- default (include "sentinel-ebpf.detector.fullname" .) .Values.detector.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.detector.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The detector's replica count as the cluster will run it (the HPA's
minimum when autoscaling): PDB and spread only make sense above 1. */}}
{{- define "sentinel-ebpf.detector.minReplicas" -}}
{{- $d := .Values.detector -}}
{{- if $d.autoscaling.enabled }}{{ $d.autoscaling.minReplicas | int64 }}{{ else }}{{ $d.replicaCount | int64 }}{{ end -}}
{{- end }}

{{- define "sentinel-ebpf.agent.image" -}}
{{- printf "%s:%s" .Values.agent.image.repository (default .Chart.AppVersion .Values.agent.image.tag) }}
{{- end }}

{{- define "sentinel-ebpf.detector.image" -}}
{{- printf "%s:%s" .Values.detector.image.repository (default .Chart.AppVersion .Values.detector.image.tag) }}
{{- end }}

{{/*
The detector address the agents use: agent.grpc.endpoint, else the chart's
detector through its headless Service, so the gRPC dns resolver sees every
replica and round_robin spreads the agents' streams over them.
*/}}
{{- define "sentinel-ebpf.agent.endpoint" -}}
{{- if .Values.agent.grpc.endpoint }}
{{- .Values.agent.grpc.endpoint }}
{{- else if .Values.detector.enabled }}
{{- printf "dns:///%s.%s.svc.%s:%d" (include "sentinel-ebpf.detector.headless" .) .Release.Namespace .Values.clusterDomain (int .Values.detector.port) }}
{{- end }}
{{- end }}

{{/* Where the agent's TLS Secret is mounted (not under the ConfigMap's directory). */}}
{{- define "sentinel-ebpf.agent.tlsDir" -}}
/etc/sentinel-ebpf-tls
{{- end }}

{{/*
agent-config.yaml. The DaemonSet's pod template carries its checksum, so a
change here restarts the agents; rules.yaml is not part of it (hot reload).
*/}}
{{- define "sentinel-ebpf.agentConfig" -}}
{{- $c := .Values.config -}}
{{- $a := .Values.agent -}}
{{- $tls := include "sentinel-ebpf.agent.tlsDir" . -}}
# Rendered by the sentinel-ebpf chart from the values config.* and agent.*.
logLevel: {{ $c.logLevel }}
health:
  port: {{ $c.health.port | int64 }}
  bindAddress: {{ $c.health.bindAddress | quote }}
  detectorGraceSeconds: {{ $c.health.detectorGraceSeconds | int64 }}
  maxKernelDropRatio: {{ $c.health.maxKernelDropRatio | float64 }}
  stallSeconds: {{ $c.health.stallSeconds | int64 }}
metrics:
  enabled: {{ $c.metrics.enabled }}
  port: {{ $c.metrics.port | int64 }}
  bindAddress: {{ $c.metrics.bindAddress | quote }}
rulesFile: /etc/sentinel-ebpf/rules.yaml
allowEmptyRules: {{ $c.allowEmptyRules }}
stream:
  mode: {{ $a.stream.mode }}
  batchSize: {{ $a.stream.batchSize | int64 }}
  queueLength: {{ $a.stream.queueLength | int64 }}
grpc:
  endpoint: {{ include "sentinel-ebpf.agent.endpoint" . | quote }}
  ackTimeoutSeconds: {{ $a.grpc.ackTimeoutSeconds | int64 }}
  tls:
    enabled: {{ $a.grpc.tls.enabled }}
    caFile: {{ ternary (printf "%s/%s" $tls $a.grpc.tls.caKey) "" (and $a.grpc.tls.enabled (ne $a.grpc.tls.caKey "")) | quote }}
    certFile: {{ ternary (printf "%s/%s" $tls $a.grpc.tls.certKey) "" (and $a.grpc.tls.enabled (ne $a.grpc.tls.certKey "")) | quote }}
    keyFile: {{ ternary (printf "%s/%s" $tls $a.grpc.tls.keyKey) "" (and $a.grpc.tls.enabled (ne $a.grpc.tls.keyKey "")) | quote }}
probe:
  transport: {{ $a.probe.transport }}
  ringBufferKiB: {{ $a.probe.ringBufferKiB | int64 }}
  perfBufferPagesPerCpu: {{ $a.probe.perfBufferPagesPerCpu | int64 }}
  fdTableSize: {{ $a.probe.fdTableSize | int64 }}
  drainIntervalMs: {{ $a.probe.drainIntervalMs | int64 }}
  rateLimit:
    eventsPerSecond: {{ $a.probe.rateLimit.eventsPerSecond | int64 }}
    burst: {{ $a.probe.rateLimit.burst | int64 }}
    reportIntervalSeconds: {{ $a.probe.rateLimit.reportIntervalSeconds | int64 }}
pods:
  enabled: {{ $a.pods.enabled }}
  bundlePaths:{{ if not $a.pods.bundlePaths }} []{{ end }}
  {{- range $a.pods.bundlePaths }}
    - {{ . | quote }}
  {{- end }}
{{- end }}

{{/* The node directory holding each bundle path's {id} directories. */}}
{{- define "sentinel-ebpf.agent.bundleDirs" -}}
{{- $dirs := list -}}
{{- range .Values.agent.pods.bundlePaths -}}
{{- $dirs = append $dirs (regexReplaceAll "/[^/]*\\{id\\}.*$" . "") -}}
{{- end -}}
{{- toJson ($dirs | uniq) -}}
{{- end }}

{{/* rules.yaml, exactly the values' rules list. */}}
{{- define "sentinel-ebpf.rules" -}}
# Rendered by the sentinel-ebpf chart from the value rules. The agent reloads
# this file when the kubelet updates the ConfigMap (no restart).
{{ toYaml (dict "rules" .Values.rules) }}
{{- end }}

{{/*
Checks that need more than one value (single values are checked by
values.schema.json). Included by the ConfigMap, which is always rendered.
*/}}
{{- define "sentinel-ebpf.validate" -}}
{{- $a := .Values.agent -}}
{{- $d := .Values.detector -}}
{{- if and (eq $a.stream.mode "grpc") (not $d.enabled) (not $a.grpc.endpoint) }}
{{- fail "agent.grpc.endpoint is required when detector.enabled=false and agent.stream.mode=grpc: set it to your detector's gRPC address (e.g. dns:///detector.security.svc.cluster.local:50051), or enable the chart's detector, or use agent.stream.mode=stdout" }}
{{- end }}
{{- if and $a.grpc.tls.enabled (not $a.grpc.tls.secretName) }}
{{- fail "agent.grpc.tls.secretName is required when agent.grpc.tls.enabled=true: the Secret holding the CA (and the client certificate for mTLS)" }}
{{- end }}
{{- if and $a.grpc.tls.enabled (ne (empty $a.grpc.tls.certKey) (empty $a.grpc.tls.keyKey)) }}
{{- fail "agent.grpc.tls.certKey and agent.grpc.tls.keyKey go together: set both (mTLS) or neither" }}
{{- end }}
{{- if and $d.enabled $d.tls.enabled (not $d.tls.secretName) }}
{{- fail "detector.tls.secretName is required when detector.tls.enabled=true: a kubernetes.io/tls Secret (tls.crt, tls.key, and ca.crt for clientAuth)" }}
{{- end }}
{{- if and $d.enabled $d.tls.enabled (eq $a.stream.mode "grpc") (not $a.grpc.endpoint) (not $a.grpc.tls.enabled) }}
{{- fail "detector.tls.enabled=true but agent.grpc.tls.enabled=false: the agents would speak plaintext to a TLS detector; configure agent.grpc.tls too" }}
{{- end }}
{{- if and $d.enabled $d.tls.enabled $d.tls.clientAuth $a.grpc.tls.enabled (not $a.grpc.tls.certKey) (not $a.grpc.endpoint) }}
{{- fail "detector.tls.clientAuth=true needs client certificates: set agent.grpc.tls.certKey and agent.grpc.tls.keyKey" }}
{{- end }}
{{- if and $d.enabled $d.autoscaling.enabled (gt (int $d.autoscaling.minReplicas) (int $d.autoscaling.maxReplicas)) }}
{{- fail "detector.autoscaling.minReplicas must not exceed detector.autoscaling.maxReplicas" }}
{{- end }}
{{- if and $d.enabled $d.autoscaling.enabled (not (dig "requests" "cpu" "" $d.resources)) }}
{{- fail "detector.autoscaling needs detector.resources.requests.cpu: the HPA's CPU utilization is relative to it" }}
{{- end }}
{{- if and $d.enabled (eq (int $d.port) (int $d.metricsPort)) }}
{{- fail "detector.port and detector.metricsPort must differ" }}
{{- end }}
{{- $c := .Values.config -}}
{{- if and $c.metrics.enabled (eq (int $c.health.port) (int $c.metrics.port)) (ne (int $c.health.port) 0) }}
{{- fail "config.health.port and config.metrics.port must differ (both are served by the agent)" }}
{{- end }}
{{- end }}
