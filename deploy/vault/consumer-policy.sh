#!/usr/bin/env bash
# Prints the consumer policy for one tenant (deploy/vault/consumer.hcl.tmpl, rendered).
#   deploy/vault/consumer-policy.sh <tenant> [mount]
#   deploy/vault/consumer-policy.sh acme | bao policy write rotor-consumer-acme -
# mount defaults to VAULT_KV_MOUNT, then `secret`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tenant="${1:-}"
mount="${2:-${VAULT_KV_MOUNT:-secret}}"
mount="${mount%/}"
# Same rule as domain/naming.ts: a tenant id can never widen the policy's path.
if [[ ! "$tenant" =~ ^[a-z0-9][a-z0-9._-]{0,62}$ || "$tenant" == *..* ]]; then
  echo "usage: $0 <tenant> [mount]  (tenant: lowercase letters, digits, . _ -; up to 63)" >&2
  exit 2
fi
if [[ ! "$mount" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$ || "$mount" == *..* ]]; then
  echo "$0: invalid mount '$mount'" >&2
  exit 2
fi
sed -e "s#{{tenant}}#${tenant}#g" -e "s#{{mount}}#${mount}#g" "$here/consumer.hcl.tmpl"
