#!/usr/bin/env bash
# Restore a backup made by backup.sh into an EMPTY database, then prove the PDL log intact.
#
#   restore.sh BACKUP_FOLDER PUBLIC_KEY [PUBLIC_KEY ...]
#
# Connection for pg_restore: the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE), as the owner.
# INTYGSGATEWAY_DATABASE_URL: the same database as a SQLAlchemy URL, for the verification.
# INTYGSGATEWAY: the intygsgateway command (default: intygsgateway on PATH). PG_BINDIR as in backup.sh.
#
# The verification runs with --no-seal (nothing in the restored database is changed before it is
# checked), with the public keys only (no secret is needed) and the checkpoint file of the backup:
# it prints the last good signed checkpoint, or the first break, and exits 1 on a break. Run
# `intygsgateway db upgrade --with-roles` afterwards to grant the roles on the restored tables.
set -euo pipefail
folder="${1:?usage: restore.sh BACKUP_FOLDER PUBLIC_KEY [PUBLIC_KEY ...]}"
shift
[[ $# -ge 1 ]] || { echo "restore: give the PDL public key(s) (intygsgateway pdl keygen wrote it)" >&2; exit 2; }
bin="${PG_BINDIR:+$PG_BINDIR/}"
gateway="${INTYGSGATEWAY:-intygsgateway}"
: "${INTYGSGATEWAY_DATABASE_URL:?set INTYGSGATEWAY_DATABASE_URL to the restored database (SQLAlchemy URL)}"
(cd "$folder" && sha256sum --check --quiet SHA256SUMS)
"${bin}pg_restore" --exit-on-error --single-transaction --no-owner --no-privileges --dbname="${PGDATABASE:?set PGDATABASE}" \
    "$folder/intygsgateway.dump"
keys=()
for key in "$@"; do keys+=(--public-key "$key"); done
"$gateway" pdl verify --no-seal "${keys[@]}" --checkpoints "$folder/pdl-checkpoints.jsonl" \
    --db "$INTYGSGATEWAY_DATABASE_URL"
