{{/*
Checksums that roll a pod when what it reads changes. Helm renders each subchart apart, so a pod
cannot hash the umbrella's Secret itself; it hashes what that Secret is made of instead. Every
secret input therefore lives under `global` (which every chart sees), and each key below lists the
values it is built from. Generated values never change (they are read back from the Secret), so
hashing the inputs is enough. With `global.existingSecret`, the chart cannot see the content at
render time except through `lookup`: the current data of the keys the pod reads is hashed too, so
the `helm upgrade` after a change to that Secret rolls the pods that read it (`helm template` has
no cluster and hashes nothing of it).
*/}}
{{- define "common.secretInputs" -}}
{{- $g := .global -}}
{{- $pg := $g.postgresql.auth -}}
{{- $inputs := dict
  "DATABASE_URL" (list $g.databaseUrl $pg.password)
  "DATABASE_PASSWORD" (list $pg.password)
  "POSTGRES_PASSWORD" (list $pg.postgresPassword)
  "REDIS_URL" (list $g.redisUrl $g.redis.password)
  "REDIS_PASSWORD" (list $g.redis.password)
  "API_TOKENS" $g.apiTokens
  "TRACKING_TOKEN_SECRET" (list $g.trackingTokenSecret)
-}}
{{- if not (hasKey $inputs .key) }}{{ fail (printf "common.secretInputs: no inputs listed for the Secret key %s" .key) }}{{ end -}}
{{- index $inputs .key | toJson -}}
{{- end -}}

{{/* sha256 over the Secret keys `.keys` that a pod of `.top` reads. */}}
{{- define "common.secretChecksum" -}}
{{- $g := .top.Values.global -}}
{{- $existing := dict -}}
{{- if $g.existingSecret -}}
{{- $existing = (lookup "v1" "Secret" .top.Release.Namespace $g.existingSecret).data | default dict -}}
{{- end -}}
{{- $hashed := dict "secret" (include "common.secretName" .top) -}}
{{- range $key := .keys -}}
{{- $_ := set $hashed $key (list (include "common.secretInputs" (dict "global" $g "key" $key)) (get $existing $key)) -}}
{{- end -}}
{{- toJson $hashed | sha256sum -}}
{{- end -}}
