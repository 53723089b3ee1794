#!/usr/bin/env bash
# Back up intygsgateway's database so that the PDL log stays verifiable after a restore.
#
#   backup.sh DEST_DIR
#
# Connection: the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSFILE), as for pg_dump.
# CHECKPOINTS: the gateway's pdl_checkpoint_file (default /var/lib/intygsgateway/pdl-checkpoints.jsonl).
# PG_BINDIR: where pg_dump lives, when not on PATH.
#
# The checkpoint file is copied FIRST, then the database dumped in one consistent snapshot: the file
# is appended to only after a checkpoint has committed, so every checkpoint in the copy is in the dump
# and `pdl verify --checkpoints` passes on the restored database. (Copied after the dump, the file
# could name checkpoints the dump does not hold, and the verification would report them missing.)
# Writes DEST_DIR/intygsgateway-<UTC time>/ with the dump, the checkpoint file and SHA256SUMS, mode 0700.
set -euo pipefail
dest="${1:?usage: backup.sh DEST_DIR}"
checkpoints="${CHECKPOINTS:-/var/lib/intygsgateway/pdl-checkpoints.jsonl}"
bin="${PG_BINDIR:+$PG_BINDIR/}"
umask 077
folder="$dest/intygsgateway-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$folder"
if [[ -f "$checkpoints" ]]; then
    cp "$checkpoints" "$folder/pdl-checkpoints.jsonl"
else
    echo "backup: no checkpoint file at $checkpoints (is pdl_signing_key set?); the log is then checked as a hash chain only" >&2
    : > "$folder/pdl-checkpoints.jsonl"
fi
"${bin}pg_dump" --format=custom --serializable-deferrable --file="$folder/intygsgateway.dump"
(cd "$folder" && sha256sum intygsgateway.dump pdl-checkpoints.jsonl > SHA256SUMS)
echo "$folder"
