{{/*
Names and labels shared by every choreo chart. Each helper takes the including chart's context (`.`),
so `.Chart` is the app's own chart and `.Values.global` the umbrella's shared settings.
*/}}

{{/* `<release>-<chart>`, e.g. `choreo-crud`, cut to the 63 characters a DNS label allows. */}}
{{- define "common.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "common.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "common.labels" -}}
{{ include "common.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: choreo
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/*
The Secret holding DATABASE_URL, REDIS_URL, API_TOKENS, TRACKING_TOKEN_SECRET (and the bundled
servers' passwords): the operator's `global.existingSecret`, or the one the umbrella chart renders.
*/}}
{{- define "common.secretName" -}}
{{- .Values.global.existingSecret | default (printf "%s-secrets" .Release.Name) -}}
{{- end -}}

{{/* The app image: the chart's own `image` where set, else `global.image`, tag defaulting to appVersion. */}}
{{- define "common.image" -}}
{{- $global := .Values.global.image | default dict -}}
{{- $own := .Values.image | default dict -}}
{{- $repository := $own.repository | default $global.repository -}}
{{- $tag := $own.tag | default $global.tag | default .Chart.AppVersion -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}

{{- define "common.imagePullPolicy" -}}
{{- $global := .Values.global.image | default dict -}}
{{- $own := .Values.image | default dict -}}
{{- $own.pullPolicy | default $global.pullPolicy | default "IfNotPresent" -}}
{{- end -}}

{{- define "common.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
