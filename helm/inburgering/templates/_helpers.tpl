{{/*
Names and labels. Every object of a service is `<fullname>-<service>`.
*/}}
{{- define "inburgering.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "inburgering.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: inburgering
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector labels of one service's server pods: (dict "root" $ "name" $name) */}}
{{- define "inburgering.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/*
One service's effective settings as YAML (read back with fromYaml): serviceDefaults merged
under the service's own entry, with the database names derived from the service name.
Call with (dict "root" $ "name" $name "raw" $raw).
*/}}
{{- define "inburgering.service" -}}
{{- $svc := mergeOverwrite (deepCopy .root.Values.serviceDefaults) (deepCopy .raw) -}}
{{- $cluster := $svc.database.cluster | default (printf "inburgering-%s-db" .name) -}}
{{- $_ := set $svc.database "cluster" $cluster -}}
{{- $_ := set $svc.database "existingSecret" ($svc.database.existingSecret | default (printf "%s-app" $cluster)) -}}
{{- $_ := set $svc "config" (mergeOverwrite (deepCopy .root.Values.config) ($svc.config | default dict)) -}}
{{- $_ := set $svc "name" .name -}}
{{- $_ := set $svc "fullname" (printf "%s-%s" (include "inburgering.fullname" .root) .name) -}}
{{- toYaml $svc -}}
{{- end -}}

{{/* The pull policy: a digest never changes, a tag may. */}}
{{- define "inburgering.pullPolicy" -}}
{{- .Values.image.pullPolicy | default (ternary "IfNotPresent" "Always" (ne .Values.image.digest "")) -}}
{{- end -}}

{{/* The image reference, by digest when one is given. */}}
{{- define "inburgering.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
The INBURGERING_* variables of one service, as a map (the ConfigMap's data and, for the
migration Job, which runs before the ConfigMap exists, inline env). Call with
(dict "root" $ "svc" $svc).
*/}}
{{- define "inburgering.configData" -}}
{{- $c := .svc.config -}}
INBURGERING_GRPC_ADDR: {{ printf "0.0.0.0:%v" .root.Values.ports.grpc | quote }}
INBURGERING_METRICS_ADDR: {{ printf "0.0.0.0:%v" .root.Values.ports.metrics | quote }}
INBURGERING_KAFKA_BROKERS: {{ $c.kafkaBrokers | quote }}
INBURGERING_OIDC_ISSUER: {{ $c.oidcIssuer | quote }}
INBURGERING_OIDC_AUDIENCE: {{ $c.oidcAudience | quote }}
{{- if $c.otlpEndpoint }}
INBURGERING_OTLP_ENDPOINT: {{ $c.otlpEndpoint | quote }}
{{- end }}
INBURGERING_LOG: {{ $c.log | quote }}
INBURGERING_DATABASE_MAX_CONNECTIONS: {{ $c.databaseMaxConnections | quote }}
INBURGERING_CONSUMER_MAX_ATTEMPTS: {{ $c.consumerMaxAttempts | quote }}
INBURGERING_REQUEST_TIMEOUT_SECS: {{ $c.requestTimeoutSecs | quote }}
{{- if hasKey $c "breachSweepIntervalSecs" }}
INBURGERING_BREACH_SWEEP_INTERVAL_SECS: {{ $c.breachSweepIntervalSecs | quote }}
{{- end }}
{{- if hasKey $c "addressRetentionDays" }}
INBURGERING_ADDRESS_RETENTION_DAYS: {{ $c.addressRetentionDays | quote }}
{{- end }}
{{- if hasKey $c "interpretingLateCancellationHours" }}
INBURGERING_INTERPRETING_LATE_CANCELLATION_HOURS: {{ $c.interpretingLateCancellationHours | quote }}
{{- end }}
{{- if $c.interpretingRatesFile }}
INBURGERING_INTERPRETING_RATES_FILE: {{ $c.interpretingRatesFile | quote }}
{{- end }}
{{- range .svc.calls }}
INBURGERING_{{ upper . }}_URL: {{ printf "http://%s-%s:%v" (include "inburgering.fullname" $.root) . $.root.Values.ports.grpc | quote }}
{{- end }}
{{- end -}}

{{/* The database URL from the service's existing Secret. (dict "svc" $svc) */}}
{{- define "inburgering.databaseEnv" -}}
- name: INBURGERING_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .svc.database.existingSecret }}
      key: {{ .svc.database.key }}
{{- end -}}

{{/* Pod and container security settings shared by servers and migration Jobs. */}}
{{- define "inburgering.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "inburgering.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* A NetworkPolicy peer from {namespace, podLabels} or {cidr}. */}}
{{- define "inburgering.peer" -}}
{{- if .cidr -}}
- ipBlock:
    cidr: {{ .cidr }}
{{- else -}}
- namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ .namespace }}
  podSelector:
    matchLabels:
      {{- toYaml .podLabels | nindent 6 }}
{{- end -}}
{{- end -}}
