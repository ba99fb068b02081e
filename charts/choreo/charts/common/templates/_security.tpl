{{/*
Pod security context. Takes (dict "uid" <number>): the numeric user of the image (1000 is `node` in
the choreo image, 999 is `redis` / `postgres` in theirs). It must be numeric: with a named USER
(`USER node` in the Dockerfile) the kubelet cannot check runAsNonRoot and refuses to start the pod.
*/}}
{{- define "common.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container security context: non-root, read-only root filesystem, no privilege escalation, no capabilities. */}}
{{- define "common.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
{{- end -}}
