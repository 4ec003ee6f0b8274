-- API processes keep tokens and the operator catalog in memory; these triggers tell every process (LISTEN
-- cellar_cache) when to forget: a revoked token by its hash, any change of users, projects, roles or their
-- assignments ('identity'), any change of datastores, versions or flavors ('catalog'). Whoever writes (the API,
-- `cellar identity`, `cellar flavor add`, psql) is covered.
CREATE FUNCTION cellar_notify_cache() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'identity_tokens' THEN
        PERFORM pg_notify('cellar_cache', 'token:' || NEW.token_hash);
    ELSIF TG_TABLE_NAME LIKE 'identity_%' THEN
        PERFORM pg_notify('cellar_cache', 'identity');
    ELSE
        PERFORM pg_notify('cellar_cache', 'catalog');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER identity_tokens_revoked AFTER UPDATE OF revoked_at ON identity_tokens
    FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL) EXECUTE FUNCTION cellar_notify_cache();

-- Any statement changing one of these tables: one notification per statement.
DO $$
DECLARE
    changed text;
BEGIN
    FOREACH changed IN ARRAY ARRAY['identity_users', 'identity_projects', 'identity_roles', 'identity_role_assignments',
                                   'datastores', 'datastore_versions', 'flavors'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH STATEMENT EXECUTE FUNCTION cellar_notify_cache()',
                       changed || '_changed', changed);
    END LOOP;
END $$;
