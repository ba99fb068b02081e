{{/*
Everything one choreo app needs: its ConfigMap (plain settings), Service, Deployment and, when it runs
more than one pod, a PodDisruptionBudget; a HorizontalPodAutoscaler and a ServiceMonitor when asked.
Called from each app subchart as

  {{ include "common.app" (dict "top" . "secretKeys" (list "DATABASE_URL" "REDIS_URL") "strategy" "RollingUpdate") }}

`secretKeys` are the Secret keys the app reads (mirroring its apps/<app>/src/config.ts); the image
is the same for every app and APP=<chart name> picks which one runs (docker/Dockerfile).
*/}}
{{- define "common.app" -}}
{{- $top := .top -}}
{{- $values := $top.Values -}}
{{ include "common.configMap" $top }}
---
{{ include "common.service" $top }}
---
{{ include "common.deployment" . }}
{{- if and $values.pdb.enabled (or (gt (int $values.replicaCount) 1) $values.autoscaling.enabled) }}
---
{{ include "common.podDisruptionBudget" $top }}
{{- end }}
{{- if $values.autoscaling.enabled }}
---
{{ include "common.horizontalPodAutoscaler" $top }}
{{- end }}
{{- if $values.global.metrics.serviceMonitor.enabled }}
---
{{ include "common.serviceMonitor" $top }}
{{- end }}
{{- end -}}

{{/* The app's plain settings: the same variable names as docker/compose.yaml and docs/architecture.md. */}}
{{- define "common.configData" -}}
{{- $data := dict
  "APP" .Chart.Name
  "PORT" (toString .Values.port)
  "LOG_LEVEL" (.Values.logLevel | default .Values.global.logLevel)
  "NODE_ENV" .Values.global.nodeEnv
  "OTEL_SERVICE_NAME" .Chart.Name
-}}
{{- with .Values.global.otelExporterOtlpEndpoint }}
{{- $_ := set $data "OTEL_EXPORTER_OTLP_ENDPOINT" . }}
{{- end }}
{{- with .Values.deadLetters }}
{{- $_ := set $data "DEAD_LETTER_RETENTION" (toString .retention) }}
{{- $_ := set $data "DEAD_LETTER_ALERT_LENGTH" (toString (int .alertLength)) }}
{{- end }}
{{- range $name, $value := .Values.global.env }}
{{- $_ := set $data $name (toString $value) }}
{{- end }}
{{- range $name, $value := .Values.env }}
{{- $_ := set $data $name (toString $value) }}
{{- end }}
{{- toYaml $data -}}
{{- end -}}

{{- define "common.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
data:
  {{- include "common.configData" . | nindent 2 }}
{{- end -}}

{{/* What `checksum/config` hashes: the ConfigMap's data and the pod's own extra variables. */}}
{{- define "common.configChecksum" -}}
{{- printf "%s\n%s" (include "common.configData" .) (toJson .Values.extraEnv) | sha256sum -}}
{{- end -}}

{{- define "common.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
  {{- with .Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.service.type }}
  selector:
    {{- include "common.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{- define "common.deployment" -}}
{{- $top := .top -}}
{{- $values := $top.Values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "common.fullname" $top }}
  labels:
    {{- include "common.labels" $top | nindent 4 }}
spec:
  {{- if not $values.autoscaling.enabled }}
  replicas: {{ $values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    {{- if eq .strategy "Recreate" }}
    type: Recreate
    {{- else }}
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: 0, maxSurge: 1 }
    {{- end }}
  selector:
    matchLabels:
      {{- include "common.selectorLabels" $top | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "common.podLabels" $top | nindent 8 }}
      annotations:
        checksum/config: {{ include "common.configChecksum" $top }}
        checksum/secret: {{ include "common.secretChecksum" (dict "top" $top "keys" .secretKeys) }}
        {{- if $values.global.metrics.scrapeAnnotations }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $values.port | quote }}
        prometheus.io/path: /metrics
        {{- end }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with include "common.imagePullSecrets" $top | trim }}{{ . | nindent 6 }}{{ end }}
      serviceAccountName: {{ include "common.serviceAccountName" $top }}
      # The apps never call the Kubernetes API.
      automountServiceAccountToken: false
      securityContext:
        {{- include "common.podSecurityContext" (dict "uid" 1000 "top" $top) | nindent 8 }}
      terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
      containers:
        - name: {{ $top.Chart.Name }}
          image: {{ include "common.image" $top | quote }}
          imagePullPolicy: {{ include "common.imagePullPolicy" $top }}
          ports:
            - name: http
              containerPort: {{ $values.port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "common.fullname" $top }}
          {{- if or .secretKeys $values.extraEnv }}
          env:
            {{- range .secretKeys }}
            - name: {{ . }}
              valueFrom:
                secretKeyRef:
                  name: {{ include "common.secretName" $top }}
                  key: {{ . }}
            {{- end }}
            {{- with $values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- end }}
          {{- include "common.httpProbes" $top | nindent 10 }}
          {{- if $values.shutdownDelaySeconds }}
          lifecycle:
            # Readiness turns 503 at SIGTERM, but endpoints update asynchronously: keep serving for a
            # moment so that no request is routed to a pod that has already stopped listening.
            preStop:
              exec:
                command: ["sleep", {{ $values.shutdownDelaySeconds | quote }}]
          {{- end }}
          {{- with include "common.resources" $top | trim }}{{ . | nindent 10 }}{{ end }}
          securityContext:
            {{- include "common.containerSecurityContext" $top | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        # The root filesystem is read-only; Node and its libraries may still want a scratch /tmp.
        - name: tmp
          emptyDir: { sizeLimit: 64Mi }
      {{- with include "common.scheduling" $top | trim }}{{ . | nindent 6 }}{{ end }}
{{- end -}}

{{- define "common.podDisruptionBudget" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  {{- if .Values.pdb.minAvailable }}
  minAvailable: {{ .Values.pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "common.selectorLabels" . | nindent 6 }}
{{- end -}}

{{- define "common.horizontalPodAutoscaler" -}}
{{- $scaling := .Values.autoscaling -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "common.fullname" . }}
  minReplicas: {{ $scaling.minReplicas }}
  maxReplicas: {{ $scaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: { type: Utilization, averageUtilization: {{ $scaling.targetCPUUtilizationPercentage }} }
    {{- with $scaling.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target: { type: Utilization, averageUtilization: {{ . }} }
    {{- end }}
{{- end -}}

{{/* Prometheus Operator: scrape /metrics on the Service's `http` port. */}}
{{- define "common.serviceMonitor" -}}
{{- $monitor := .Values.global.metrics.serviceMonitor -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
    {{- with $monitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "common.selectorLabels" . | nindent 6 }}
  namespaceSelector:
    matchNames: [{{ .Release.Namespace | quote }}]
  endpoints:
    - port: http
      path: /metrics
      interval: {{ $monitor.interval }}
      scrapeTimeout: {{ $monitor.scrapeTimeout }}
{{- end -}}
