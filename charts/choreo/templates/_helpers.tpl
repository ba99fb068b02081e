{{/* The apps of the umbrella chart, in README order, with their subchart keys. */}}
{{- define "choreo.apps" -}}
{{- list "crud" "events" "cdc-relay" "aggregator" "notifications" "simulator" | toJson -}}
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

{{/* Refuses combinations of values that cannot work, each with what to change. */}}
{{- define "choreo.validate" -}}
{{- $g := .Values.global -}}
{{- if $g.existingSecret -}}
{{- range $key := list "databaseUrl" "redisUrl" "trackingTokenSecret" -}}
{{- if get $g $key -}}
{{- fail (printf "global.%s is set, but global.existingSecret (%s) supplies the settings: put the value into that Secret, or leave global.existingSecret empty" $key $g.existingSecret) -}}
{{- end -}}
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
{{- end -}}
