{{/*
Names and labels shared by every choreo chart. Each helper takes the including chart's context (`.`),
so `.Chart` is the app's own chart and `.Values.global` the umbrella's shared settings.
*/}}

{{/* `<release>-<chart>`, e.g. `choreo-crud`, cut to the 63 characters a DNS label allows. */}}
{{- define "common.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
A StatefulSet's name, cut to 52 characters: its pods carry the label
`controller-revision-hash: <name>-<10-character hash>`, and a label value may not pass 63.
*/}}
{{- define "common.statefulSetName" -}}
{{- include "common.fullname" . | trunc 52 | trimSuffix "-" -}}
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

{{/* The pod labels: the chart's labels, then the chart's own `podLabels` (which may not replace them). */}}
{{- define "common.podLabels" -}}
{{- $labels := include "common.labels" . | fromYaml -}}
{{- range $key, $value := .Values.podLabels | default dict }}
{{- if not (hasKey $labels $key) }}{{ $_ := set $labels $key (toString $value) }}{{ end }}
{{- end }}
{{- toYaml $labels -}}
{{- end -}}

{{/*
The Secret holding DATABASE_URL, REDIS_URL, API_TOKENS, TRACKING_TOKEN_SECRET (and the bundled
servers' passwords): the operator's `global.existingSecret`, or the one the umbrella chart renders.
*/}}
{{- define "common.secretName" -}}
{{- .Values.global.existingSecret | default (printf "%s-secrets" .Release.Name) -}}
{{- end -}}

{{/* The release's ServiceAccount: `global.serviceAccount.name`, else `<release>-choreo` when created, else `default`. */}}
{{- define "common.serviceAccountName" -}}
{{- $sa := .Values.global.serviceAccount -}}
{{- if $sa.name -}}{{ $sa.name }}{{- else if $sa.create -}}{{ printf "%s-choreo" .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}default{{- end -}}
{{- end -}}

{{/*
An image reference from (dict "registry" "repository" "tag" "digest"): `[registry/]repository[:tag][@digest]`.
`global.imageRegistry` is put in front of every image of the chart, choreo's and the servers' alike.
*/}}
{{- define "common.imageRef" -}}
{{- $ref := .repository -}}
{{- with .registry }}{{ $ref = printf "%s/%s" (trimSuffix "/" .) $ref }}{{ end -}}
{{- with .tag }}{{ $ref = printf "%s:%s" $ref . }}{{ end -}}
{{- with .digest }}{{ $ref = printf "%s@%s" $ref . }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{/* The choreo app image: the chart's own `image` where set, else `global.image`, tag defaulting to appVersion. */}}
{{- define "common.image" -}}
{{- $global := .Values.global.image | default dict -}}
{{- $own := .Values.image | default dict -}}
{{- include "common.imageRef" (dict
  "registry" .Values.global.imageRegistry
  "repository" ($own.repository | default $global.repository)
  "tag" ($own.tag | default $global.tag | default .Chart.AppVersion)
  "digest" ($own.digest | default $global.digest)) -}}
{{- end -}}

{{/* A bundled server's or the test pod's image, from its `image` values, under `global.imageRegistry` too. */}}
{{- define "common.serverImage" -}}
{{- include "common.imageRef" (dict
  "registry" .top.Values.global.imageRegistry
  "repository" .image.repository "tag" .image.tag "digest" .image.digest) -}}
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
