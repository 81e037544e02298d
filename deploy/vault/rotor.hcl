# Rotor's own Vault policy: what the worker and the API need, nothing more.
#
# Attach it to the token in VAULT_TOKEN for the worker and the API. It assumes the KV v2 mount
# `secret` (VAULT_KV_MOUNT's default); for another mount, replace `secret/` below, e.g.
#   sed 's#"secret/#"kv/#' deploy/vault/rotor.hcl | bao policy write rotor -
#
# Two prefixes, each the same calls (vault/kv.ts, api/routes/secret-value.ts,
# control/supply-value.ts):
#   rotor/<tenant>/<name>          the consumer path: newest version = the promoted current value
#   rotor-staging/<tenant>/<name>  pending and supplied values before they are promoted
# Both are spelled out (no `rotor*` glob), so a path such as `rotor-other/` stays out of reach.

# Write a version with check-and-set (create: the first version; update: every later one),
# and read one (latest or ?version=N).
path "secret/data/rotor/*" {
  capabilities = ["create", "update", "read"]
}
path "secret/data/rotor-staging/*" {
  capabilities = ["create", "update", "read"]
}

# Read current_version and the rotor_* labels, write the labels and max_versions (POST replaces
# custom_metadata), and delete every version plus the metadata when a secret is retired. No
# `create`: Rotor only labels a path it has already written a version to (a label write on a
# path with no metadata yet would need it).
path "secret/metadata/rotor/*" {
  capabilities = ["update", "read", "delete"]
}
path "secret/metadata/rotor-staging/*" {
  capabilities = ["update", "read", "delete"]
}

# Destroy versions: a discarded pending value, a revoked previous one after grace.
path "secret/destroy/rotor/*" {
  capabilities = ["update"]
}
path "secret/destroy/rotor-staging/*" {
  capabilities = ["update"]
}

# Webhook signing secrets (webhooks/store.ts): one KV secret per endpoint at
# rotor-webhooks/<tenant>/<endpoint id>, written with check-and-set, read to sign each delivery,
# and deleted (every version and the metadata) with its endpoint. Nothing else is done there.
path "secret/data/rotor-webhooks/*" {
  capabilities = ["create", "update", "read"]
}
path "secret/metadata/rotor-webhooks/*" {
  capabilities = ["delete"]
}
