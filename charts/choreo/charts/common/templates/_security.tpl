{{/*
Pod security context. Takes (dict "uid" <number> "top" <context>): the numeric user of the image (1000
is `node` in the choreo image, 999 is `redis` / `postgres` in theirs). It must be numeric: with a named
USER the kubelet cannot check runAsNonRoot and refuses to start the pod. With `global.openshift` the
fixed ids are left out: OpenShift's restricted SCC assigns each namespace its own range and refuses
others.
*/}}
{{- define "common.podSecurityContext" -}}
runAsNonRoot: true
{{- if not .top.Values.global.openshift }}
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
fsGroupChangePolicy: OnRootMismatch
{{- end }}
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
