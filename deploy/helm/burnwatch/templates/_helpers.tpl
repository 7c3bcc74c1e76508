{{/* The chart's name, or nameOverride. */}}
{{- define "burnwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: fullnameOverride, or release-chart, or the release when it already names the chart. */}}
{{- define "burnwatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* mode, checked: gateway, agent or sidecar. */}}
{{- define "burnwatch.mode" -}}
{{- if not (has .Values.mode (list "gateway" "agent" "sidecar")) }}
{{- fail (printf "mode: %q is not one of gateway, agent, sidecar" .Values.mode) }}
{{- end }}
{{- .Values.mode }}
{{- end }}

{{- define "burnwatch.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "burnwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: burnwatch
{{- end }}

{{- define "burnwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "burnwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ include "burnwatch.mode" . }}
{{- end }}

{{/* The name of the HTTP port: in a sidecar it shares the pod with the application's ports. */}}
{{- define "burnwatch.httpPortName" -}}
{{- ternary "burnwatch-http" "http" (eq (include "burnwatch.mode" .) "sidecar") }}
{{- end }}

{{/* The port of the collector's own metrics (otelcol_*), named as the HTTP port. */}}
{{- define "burnwatch.otelcolPortName" -}}
{{- ternary "burnwatch-otel" "otelcol" (eq (include "burnwatch.mode" .) "sidecar") }}
{{- end }}

{{- define "burnwatch.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The ConfigMap with the spec files, or "" for the built-in examples. */}}
{{- define "burnwatch.specsConfigMap" -}}
{{- if .Values.specs.existingConfigMap }}
{{- .Values.specs.existingConfigMap }}
{{- else if .Values.specs.files }}
{{- printf "%s-specs" (include "burnwatch.fullname" .) }}
{{- end }}
{{- end }}

{{/* Whether the agent forwards spans to a gateway rather than evaluating itself. */}}
{{- define "burnwatch.forwards" -}}
{{- if and (eq (include "burnwatch.mode" .) "agent") .Values.agent.gatewayEndpoint (not .Values.agent.aggregate) }}true{{ end }}
{{- end }}

{{/* Whether the agent pre-aggregates for its gateways (the daemon's mode: agent). */}}
{{- define "burnwatch.aggregates" -}}
{{- if and (eq (include "burnwatch.mode" .) "agent") .Values.agent.aggregate }}
{{- if not (or .Values.agent.gatewayEndpoint .Values.agent.gateways) }}
{{- fail "agent.aggregate needs agent.gatewayEndpoint or agent.gateways: where to send the counts" }}
{{- end -}}
true
{{- end }}
{{- end }}

{{/*
The collector config: the daemon (extensions.burnwatch) and OTLP in through
the otlpfast receiver, or, for an agent that forwards to a gateway, through
the otlp receiver and the flow processor to the gateway; then config
deep-merged over it.
*/}}
{{- define "burnwatch.config" -}}
{{- $mode := include "burnwatch.mode" . }}
{{- if include "burnwatch.aggregates" . }}
{{- include "burnwatch.aggregatingConfig" . }}
{{- else }}
{{- $forwards := include "burnwatch.forwards" . }}
{{- $merges := and (eq $mode "gateway") .Values.gateway.aggregates }}
{{- $listen := ternary "localhost" "0.0.0.0" (eq $mode "sidecar") }}
{{- $files := list "builtin:examples.yaml" }}
{{- if include "burnwatch.specsConfigMap" . }}
{{- $files = list "/etc/burnwatch/specs/*.yaml" }}
{{- end }}
{{- $alerting := deepCopy .Values.burnwatch.alerting }}
{{- if $forwards }}
{{- $alerting = dict "console" false }}
{{- end }}
{{- $daemon := dict
  "files" $files
  "evaluation_interval" .Values.burnwatch.evaluationInterval
  "allowed_lateness" .Values.burnwatch.allowedLateness
  "storage" (merge (dict "directory" "/var/lib/burnwatch") (deepCopy .Values.burnwatch.storage))
  "alerting" $alerting
  "metrics" (dict "level" .Values.burnwatch.metricsLevel)
  "http" (dict "endpoint" "0.0.0.0:9464") }}
{{- if .Values.burnwatch.apiTokenEnv }}
{{- $_ := set $daemon "api" (dict "bearer_token" (printf "${env:%s}" .Values.burnwatch.apiTokenEnv)) }}
{{- end }}
{{- $protocols := dict
  "grpc" (dict "endpoint" (printf "%s:4317" $listen))
  "http" (dict "endpoint" (printf "%s:4318" $listen)) }}
{{- $cfg := dict "extensions" (dict "burnwatch" $daemon) }}
{{- if $forwards }}
{{- /* The agent forwards its spans annotated with their flows: pdata, so the otlp receiver and the flow processor. */}}
{{- $_ := set $cfg "receivers" (dict "otlp" (dict "protocols" $protocols)) }}
{{- $_ := set $cfg "processors" (dict "flow" (dict)) }}
{{- else if $merges }}
{{- /*
Agents' aggregates are OTLP metrics, which only the otlp receiver takes;
spans beside them go through the flow processor. Those spans come from
applications, not from agents (which send counts), so a client's own
burnwatch.flow is never trusted here.
*/}}
{{- $_ := set $cfg "receivers" (dict "otlp" (dict "protocols" $protocols)) }}
{{- $_ := set $cfg "processors" (dict "flow" (dict)) }}
{{- else }}
{{- /* otlpfast: OTLP bytes straight to flow events, the otlp receiver, flow processor and slo connector in one. */}}
{{- $fast := dict "protocols" $protocols }}
{{- if and (eq $mode "gateway") .Values.gateway.trustAnnotations }}
{{- $_ := set $fast "trust_annotations" true }}
{{- end }}
{{- $_ := set $cfg "receivers" (dict "otlpfast" $fast) }}
{{- end }}
{{- $prometheus := dict "host" "0.0.0.0" "port" 8888 }}
{{- $telemetry := dict
  "logs" (dict "level" "info")
  "metrics" (dict "level" "normal" "readers" (list (dict "pull" (dict "exporter" (dict "prometheus" $prometheus))))) }}
{{- $service := dict "extensions" (list "burnwatch") "telemetry" $telemetry }}
{{- if $forwards }}
{{- $_ := set $cfg "exporters" (dict "otlp_grpc/gateway" (dict
  "endpoint" .Values.agent.gatewayEndpoint
  "tls" (dict "insecure" .Values.agent.gatewayInsecure)
  "sending_queue" (dict "queue_size" 5000)
  "retry_on_failure" (dict "max_elapsed_time" "10m"))) }}
{{- $_ := set $service "pipelines" (dict
  "traces" (dict "receivers" (list "otlp") "processors" (list "flow") "exporters" (list "otlp_grpc/gateway"))) }}
{{- else if $merges }}
{{- $_ := set $cfg "connectors" (dict "slo" (dict)) }}
{{- $_ := set $cfg "exporters" (dict "nop" (dict)) }}
{{- $_ := set $service "pipelines" (dict
  "traces" (dict "receivers" (list "otlp") "processors" (list "flow") "exporters" (list "slo"))
  "metrics/agents" (dict "receivers" (list "otlp") "exporters" (list "slo"))
  "metrics/sli" (dict "receivers" (list "slo") "exporters" (list "nop"))) }}
{{- else }}
{{- /* OTLP metrics on the same ports, through the same otlpfast receiver, to the slo connector: metric SLOs. */}}
{{- $_ := set $cfg "connectors" (dict "slo" (dict)) }}
{{- $_ := set $cfg "exporters" (dict "nop" (dict)) }}
{{- $_ := set $service "pipelines" (dict
  "traces" (dict "receivers" (list "otlpfast") "exporters" (list "nop"))
  "metrics" (dict "receivers" (list "otlpfast") "exporters" (list "slo"))
  "metrics/sli" (dict "receivers" (list "slo") "exporters" (list "nop"))) }}
{{- end }}
{{- $_ := set $cfg "service" $service }}
{{- toYaml (mustMergeOverwrite $cfg (deepCopy .Values.config)) }}
{{- end }}
{{- end }}

{{/*
The config of a pre-aggregating agent (agent.aggregate): the daemon in mode
agent, spans in through otlpfast and counted into the slo connector, whose
aggregates the metrics pipeline sends to the gateway, or over the gateways
through the load-balancing exporter, one flow to one gateway. No storage
(an agent keeps no state) and no alerting (the gateways alert).
*/}}
{{- define "burnwatch.aggregatingConfig" -}}
{{- $files := list "builtin:examples.yaml" }}
{{- if include "burnwatch.specsConfigMap" . }}
{{- $files = list "/etc/burnwatch/specs/*.yaml" }}
{{- end }}
{{- $daemon := dict
  "files" $files
  "mode" "agent"
  "agent" (dict "interval" .Values.agent.interval)
  "allowed_lateness" .Values.burnwatch.allowedLateness
  "http" (dict "endpoint" "0.0.0.0:9464") }}
{{- $protocols := dict "grpc" (dict "endpoint" "0.0.0.0:4317") "http" (dict "endpoint" "0.0.0.0:4318") }}
{{- $exporter := "otlp_grpc/gateway" }}
{{- $exporters := dict }}
{{- if .Values.agent.gateways }}
{{- $exporter = "loadbalancing" }}
{{- $_ := set $exporters "loadbalancing" (dict
  "routing_key" "attributes"
  "routing_attributes" (list "burnwatch.flow")
  "protocol" (dict "otlp" (dict "tls" (dict "insecure" .Values.agent.gatewayInsecure)
    "sending_queue" (dict "queue_size" 5000) "retry_on_failure" (dict "max_elapsed_time" "10m")))
  "resolver" (dict "static" (dict "hostnames" .Values.agent.gateways))) }}
{{- else }}
{{- $_ := set $exporters "otlp_grpc/gateway" (dict
  "endpoint" .Values.agent.gatewayEndpoint
  "tls" (dict "insecure" .Values.agent.gatewayInsecure)
  "sending_queue" (dict "queue_size" 5000)
  "retry_on_failure" (dict "max_elapsed_time" "10m")) }}
{{- end }}
{{- $telemetry := dict
  "logs" (dict "level" "info")
  "metrics" (dict "level" "normal" "readers" (list (dict "pull" (dict "exporter" (dict "prometheus" (dict "host" "0.0.0.0" "port" 8888)))))) }}
{{- $cfg := dict
  "extensions" (dict "burnwatch" $daemon)
  "receivers" (dict "otlpfast" (dict "protocols" $protocols))
  "connectors" (dict "slo" (dict))
  "exporters" $exporters
  "service" (dict "extensions" (list "burnwatch") "telemetry" $telemetry "pipelines" (dict
    "traces" (dict "receivers" (list "otlpfast") "exporters" (list "slo"))
    "metrics" (dict "receivers" (list "slo") "exporters" (list $exporter)))) }}
{{- toYaml (mustMergeOverwrite $cfg (deepCopy .Values.config)) }}
{{- end }}

{{/* The burnwatch container, for the agent's and the gateway's pods and for the sidecar snippet in NOTES.txt. */}}
{{- define "burnwatch.container" -}}
- name: burnwatch
  image: {{ include "burnwatch.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["--config=/etc/burnwatch/config/config.yaml"]
  {{- if or .Values.secretEnv .Values.extraEnv }}
  env:
    {{- range $name, $ref := .Values.secretEnv }}
    - name: {{ $name }}
      valueFrom:
        secretKeyRef:
          name: {{ required (printf "secretEnv.%s.secretName is required" $name) $ref.secretName }}
          key: {{ required (printf "secretEnv.%s.key is required" $name) $ref.key }}
          {{- if $ref.optional }}
          optional: true
          {{- end }}
    {{- end }}
    {{- with .Values.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  ports:
    {{- if ne (include "burnwatch.mode" .) "sidecar" }}
    - name: otlp-grpc
      containerPort: 4317
      {{- if and (eq (include "burnwatch.mode" .) "agent") .Values.agent.hostPort }}
      hostPort: 4317
      {{- end }}
    - name: otlp-http
      containerPort: 4318
      {{- if and (eq (include "burnwatch.mode" .) "agent") .Values.agent.hostPort }}
      hostPort: 4318
      {{- end }}
    {{- end }}
    - name: {{ include "burnwatch.httpPortName" . }}
      containerPort: 9464
    - name: {{ include "burnwatch.otelcolPortName" . }}
      containerPort: 8888
  {{- with .Values.startupProbe }}
  startupProbe:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.livenessProbe }}
  livenessProbe:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.readinessProbe }}
  readinessProbe:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: burnwatch-config
      mountPath: /etc/burnwatch/config
      readOnly: true
    {{- if include "burnwatch.specsConfigMap" . }}
    - name: burnwatch-specs
      mountPath: /etc/burnwatch/specs
      readOnly: true
    {{- end }}
    - name: burnwatch-data
      mountPath: /var/lib/burnwatch
{{- end }}

{{/* The volumes of the container above, but data: its PersistentVolumeClaim or emptyDir is the workload's. */}}
{{- define "burnwatch.configVolumes" -}}
- name: burnwatch-config
  configMap:
    name: {{ include "burnwatch.fullname" . }}-config
{{- with include "burnwatch.specsConfigMap" . }}
- name: burnwatch-specs
  configMap:
    name: {{ . }}
{{- end }}
{{- end }}

{{/* The pod template of the agent and the gateway: .root is the chart's context, .data the data volume as YAML (empty when a volumeClaimTemplate provides it). */}}
{{- define "burnwatch.podTemplate" -}}
{{- $root := .root -}}
metadata:
  labels:
    {{- include "burnwatch.selectorLabels" $root | nindent 4 }}
    {{- with $root.Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    {{- with $root.Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with $root.Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    {{- include "burnwatch.container" $root | nindent 4 }}
  volumes:
    {{- include "burnwatch.configVolumes" $root | nindent 4 }}
    {{- with .data }}
    {{- . | nindent 4 }}
    {{- end }}
  {{- with $root.Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- $tolerations := $root.Values.tolerations }}
  {{- if and (not $tolerations) (eq (include "burnwatch.mode" $root) "agent") }}
  {{- $tolerations = list (dict "operator" "Exists") }}
  {{- end }}
  {{- with $tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* The emptyDir data volume. */}}
{{- define "burnwatch.emptyDirData" -}}
- name: burnwatch-data
  emptyDir:
    {{- toYaml (default dict .Values.persistence.emptyDir) | nindent 4 }}
{{- end }}
