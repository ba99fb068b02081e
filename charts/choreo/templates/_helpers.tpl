{{/* The apps of the umbrella chart, in README order, with their subchart keys. */}}
{{- define "choreo.apps" -}}
{{- list "crud" "events" "cdc-relay" "aggregator" "notifications" "simulator" | toJson -}}
{{- end -}}

{{/* The first enabled app, or nothing. */}}
{{- define "choreo.firstApp" -}}
{{- $enabled := list -}}
{{- range $app := include "choreo.apps" . | fromJsonArray -}}
{{- if (index $.Values $app).enabled }}{{ $enabled = append $enabled $app }}{{ end -}}
{{- end -}}
{{- first $enabled | default "" -}}
{{- end -}}

{{/*
The client paths and the app that serves each, for the Ingress and the HTTPRoute: `Prefix` paths
take everything below them, `Exact` only themselves, so /livez, /readyz and /metrics, which every app
serves at its root, match no rule.
*/}}
{{- define "choreo.routes" -}}
{{- list
  (dict "path" "/crud" "type" "Prefix" "app" "crud")
  (dict "path" "/docs" "type" "Prefix" "app" "crud")
  (dict "path" "/events" "type" "Prefix" "app" "events")
  (dict "path" "/orders" "type" "Prefix" "app" "events")
  (dict "path" "/aggregates" "type" "Prefix" "app" "aggregator")
  (dict "path" "/ws" "type" "Prefix" "app" "notifications")
  (dict "path" "/sse" "type" "Prefix" "app" "notifications")
  (dict "path" "/assets" "type" "Prefix" "app" "notifications")
  (dict "path" "/live-page" "type" "Prefix" "app" "notifications")
  (dict "path" "/" "type" "Exact" "app" "notifications")
  | toJson -}}
{{- end -}}

{{/* Host name of a bundled server's Service: the subchart's `common.fullname`. */}}
{{- define "choreo.serverHost" -}}
{{- printf "%s-%s" .top.Release.Name .chart | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
A secret value: the one given in values, else the one already in the release's Secret (so an
upgrade keeps generated passwords and tokens), else a new random one of `length` characters.
`helm template` cannot look into a cluster and so always generates: pin such values in GitOps setups.
*/}}
{{- define "choreo.keep" -}}
{{- if .given -}}
{{- .given -}}
{{- else if hasKey .previous .key -}}
{{- index .previous .key | b64dec -}}
{{- else -}}
{{- randAlphaNum (int .length) -}}
{{- end -}}
{{- end -}}

{{/*
The bare default image `choreo` is on no registry: at install and upgrade (and `helm template`,
which renders as an install) refuse it with the commands that make it pullable. `helm lint` renders
neither, so the defaults still lint.
*/}}
{{- define "choreo.validateImage" -}}
{{- $image := .Values.global.image -}}
{{- $bare := and (eq $image.repository "choreo") (not .Values.global.imageRegistry) (not $image.loadedOnNodes) -}}
{{- if and $bare (or .Release.IsInstall .Release.IsUpgrade) (include "choreo.firstApp" .) -}}
{{- $tag := $image.tag | default .Chart.AppVersion -}}
{{- fail (printf `
global.image.repository is "choreo", an image no registry serves: every app would sit in ImagePullBackOff.
Build the image and push it where the cluster pulls from, then point the chart at it:

  docker build -f docker/Dockerfile -t <registry>/choreo:%[1]s .
  docker push <registry>/choreo:%[1]s
  helm %[2]s %[3]s charts/choreo --set global.image.repository=<registry>/choreo

(or --set global.imageRegistry=<registry>). On a local cluster that already has the image
(kind load docker-image choreo:%[1]s, minikube image load choreo:%[1]s), set global.image.loadedOnNodes=true.` $tag (ternary "upgrade" "install" .Release.IsUpgrade) .Release.Name) -}}
{{- end -}}
{{- end -}}

{{/* Refuses combinations of values that cannot work, each with what to change. */}}
{{- define "choreo.validate" -}}
{{- $g := .Values.global -}}
{{- if $g.existingSecret -}}
{{- range $key := list "databaseUrl" "redisUrl" "trackingTokenSecret" -}}
{{- if get $g $key -}}
{{- fail (printf "global.%s is set, but global.existingSecret (%s) supplies the settings: put the value into that Secret, or leave global.existingSecret empty" $key $g.existingSecret) -}}
{{- end -}}
{{- end -}}
{{- if or $g.postgresql.auth.password $g.postgresql.auth.postgresPassword $g.redis.password -}}
{{- fail (printf "global.postgresql.auth.* / global.redis.password are set, but global.existingSecret (%s) supplies the passwords (DATABASE_PASSWORD, POSTGRES_PASSWORD, REDIS_PASSWORD): put them into that Secret, or leave global.existingSecret empty" $g.existingSecret) -}}
{{- end -}}
{{- if $g.apiTokens -}}
{{- fail (printf "global.apiTokens is set, but global.existingSecret (%s) supplies API_TOKENS: put the tokens into that Secret, or leave global.existingSecret empty" $g.existingSecret) -}}
{{- end -}}
{{- else -}}
{{- if and (not .Values.postgresql.enabled) (not $g.databaseUrl) -}}
{{- fail "postgresql.enabled=false needs global.databaseUrl (postgres://user:password@host:5432/db on a PostgreSQL with wal_level=logical), or DATABASE_URL in global.existingSecret" -}}
{{- end -}}
{{- if and (not .Values.redis.enabled) (not $g.redisUrl) -}}
{{- fail "redis.enabled=false needs global.redisUrl (redis://[user:password@]host:6379), or REDIS_URL in global.existingSecret" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.postgresql.enabled $g.databaseUrl -}}
{{- fail "global.databaseUrl is set while the bundled PostgreSQL is on: set postgresql.enabled=false to use the external one, or leave global.databaseUrl empty" -}}
{{- end -}}
{{- if and .Values.redis.enabled $g.redisUrl -}}
{{- fail "global.redisUrl is set while the bundled Redis is on: set redis.enabled=false to use the external one, or leave global.redisUrl empty" -}}
{{- end -}}
{{- include "choreo.validateImage" . -}}
{{- end -}}
