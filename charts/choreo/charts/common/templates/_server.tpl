{{/* The headless Service of a bundled server: the name resolves straight to its one pod. */}}
{{- define "common.serverService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "common.fullname" .top }}
  labels:
    {{- include "common.labels" .top | nindent 4 }}
spec:
  clusterIP: None
  selector:
    {{- include "common.selectorLabels" .top | nindent 4 }}
  ports:
    - name: {{ .portName }}
      port: {{ .port }}
      targetPort: {{ .portName }}
{{- end -}}

{{/* The pod template metadata and pod-level settings every bundled server shares. */}}
{{- define "common.serverPodMetadata" -}}
metadata:
  labels:
    {{- include "common.podLabels" .top | nindent 4 }}
  annotations:
    checksum/config: {{ .config | toJson | sha256sum }}
    checksum/secret: {{ include "common.secretChecksum" (dict "top" .top "keys" .secretKeys) }}
    {{- with .top.Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{- define "common.serverPodSpec" -}}
{{- with include "common.imagePullSecrets" .top | trim }}{{ . }}{{ end }}
serviceAccountName: {{ include "common.serviceAccountName" .top }}
automountServiceAccountToken: false
securityContext:
  {{- include "common.podSecurityContext" (dict "uid" 999 "top" .top) | nindent 2 }}
{{- end -}}

{{/* The data volume of a bundled server's StatefulSet. */}}
{{- define "common.serverVolumeClaim" -}}
volumeClaimTemplates:
  - metadata:
      name: data
      labels:
        {{- include "common.selectorLabels" . | nindent 8 }}
    spec:
      accessModes: ["ReadWriteOnce"]
      {{- with .Values.persistence.storageClass }}
      storageClassName: {{ . }}
      {{- end }}
      resources:
        requests:
          storage: {{ .Values.persistence.size }}
{{- end -}}
