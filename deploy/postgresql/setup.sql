-- PostgreSQL for intygsgateway: run once as a superuser, e.g.
--   sudo -u postgres psql -v owner_password="'...'" -v app_password="'...'" \
--        -v purge_password="'...'" -v audit_password="'...'" -f deploy/postgresql/setup.sql
-- then, as the owner (docs/deployment.md):
--   intygsgateway db upgrade --with-roles --db postgresql+psycopg://intygsgateway_owner@db-host/intygsgateway
-- which creates the schema and the three group roles of store/roles.py, and finally the grants at the end.

-- The owner: runs migrations, owns the tables. It is the "database administrator" of the PDL log's
-- threat model (docs/pdl-log.md): signatures, not roles, keep it honest. CREATEROLE lets
-- `db upgrade --with-roles` create the group roles; take it away afterwards if you like.
CREATE ROLE intygsgateway_owner LOGIN CREATEROLE PASSWORD :owner_password;
CREATE DATABASE intygsgateway OWNER intygsgateway_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE intygsgateway FROM PUBLIC;
\connect intygsgateway
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO intygsgateway_owner;

-- The logins, one per kind of use. Each gets its group role after `db upgrade --with-roles`:
--   intygsgateway_gw     the gateway and the worker (database_url): may only append to the PDL log
--   intygsgateway_purge  the retention job and `pdl purge` (pdl_purge_database_url)
--   intygsgateway_audit  auditors and `pdl verify` on the live database: read-only on the PDL log
CREATE ROLE intygsgateway_gw LOGIN PASSWORD :app_password;
CREATE ROLE intygsgateway_purge LOGIN PASSWORD :purge_password;
CREATE ROLE intygsgateway_audit LOGIN PASSWORD :audit_password;
GRANT CONNECT ON DATABASE intygsgateway TO intygsgateway_gw, intygsgateway_purge, intygsgateway_audit;

-- After `db upgrade --with-roles` (run it again after every upgrade: new tables get their grants):
--   GRANT intygsgateway_app TO intygsgateway_gw;
--   GRANT intygsgateway_pdl_purge TO intygsgateway_purge;
--   GRANT intygsgateway_pdl_audit TO intygsgateway_audit;
