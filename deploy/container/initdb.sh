#!/bin/sh
# Run once by the postgres image on an empty data folder: the login roles of compose.yaml, already
# members of the group roles that `intygsgateway db upgrade --with-roles` (the migrate service) fills
# with rights. The same roles as deploy/postgresql/setup.sql, for the containers.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v app_password="$(cat /run/secrets/db-app-password)" \
     -v purge_password="$(cat /run/secrets/db-purge-password)" <<'SQL'
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE ROLE intygsgateway_app NOLOGIN;
CREATE ROLE intygsgateway_pdl_purge NOLOGIN;
CREATE ROLE intygsgateway_pdl_audit NOLOGIN;
CREATE ROLE intygsgateway_gw LOGIN PASSWORD :'app_password' IN ROLE intygsgateway_app;
CREATE ROLE intygsgateway_purge LOGIN PASSWORD :'purge_password' IN ROLE intygsgateway_pdl_purge;
SQL
