{{/*
HTTP probes of a choreo app (libs/runtime serves them): /livez says the process answers, /readyz
that its Redis / PostgreSQL connections are up (503 as soon as shutdown starts). The startup probe
covers boot, which includes the app's own migrations under an advisory lock, so a slow first start
is not killed by the liveness probe.
*/}}
{{- define "common.httpProbes" -}}
{{- $probes := .Values.probes -}}
startupProbe:
  httpGet: { path: /livez, port: http }
  periodSeconds: {{ $probes.startup.periodSeconds }}
  timeoutSeconds: {{ $probes.startup.timeoutSeconds }}
  failureThreshold: {{ $probes.startup.failureThreshold }}
livenessProbe:
  httpGet: { path: /livez, port: http }
  periodSeconds: {{ $probes.liveness.periodSeconds }}
  timeoutSeconds: {{ $probes.liveness.timeoutSeconds }}
  failureThreshold: {{ $probes.liveness.failureThreshold }}
readinessProbe:
  httpGet: { path: /readyz, port: http }
  periodSeconds: {{ $probes.readiness.periodSeconds }}
  timeoutSeconds: {{ $probes.readiness.timeoutSeconds }}
  failureThreshold: {{ $probes.readiness.failureThreshold }}
{{- end -}}

{{/* Requests and limits from `.Values.resources`, omitted when empty. */}}
{{- define "common.resources" -}}
{{- with .Values.resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
Scheduling constraints from `.Values`, each omitted when empty. Without an `affinity` or
`topologySpreadConstraints` of their own, the pods are spread softly over nodes and zones
(`defaultSpread`): the scheduler prefers it and still schedules when it cannot.
*/}}
{{- define "common.scheduling" -}}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml .Values.topologySpreadConstraints | nindent 2 }}
{{- else if and .Values.defaultSpread (not .Values.affinity) }}
topologySpreadConstraints:
  {{- range $key := list "kubernetes.io/hostname" "topology.kubernetes.io/zone" }}
  - maxSkew: 1
    topologyKey: {{ $key }}
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "common.selectorLabels" $ | nindent 8 }}
  {{- end }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}
