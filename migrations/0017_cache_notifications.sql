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
CREATE TRIGGER identity_users_changed AFTER INSERT OR UPDATE OR DELETE ON identity_users
    FOR EACH STATEMENT EXECUTE FUNCTION cellar_notify_cache();
CREATE TRIGGER identity_projects_changed AFTER INSERT OR UPDATE OR DELETE ON identity_projects
    FOR EACH STATEMENT EXECUTE FUNCTION cellar_notify_cache();
CREATE TRIGGER identity_roles_changed AFTER INSERT OR UPDATE OR DELETE ON identity_roles
    FOR EACH STATEMENT EXECUTE FUNCTION cellar_notify_cache();
CREATE TRIGGER identity_role_assignments_changed AFTER INSERT OR UPDATE OR DELETE ON identity_role_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION cellar_notify_cache();
CREATE TRIGGER datastores_changed AFTER INSERT OR UPDATE OR DELETE ON datastores
    FOR EACH STATEMENT EXECUTE FUNCTION cellar_notify_cache();
CREATE TRIGGER datastore_versions_changed AFTER INSERT OR UPDATE OR DELETE ON datastore_versions
    FOR EACH STATEMENT EXECUTE FUNCTION cellar_notify_cache();
CREATE TRIGGER flavors_changed AFTER INSERT OR UPDATE OR DELETE ON flavors
    FOR EACH STATEMENT EXECUTE FUNCTION cellar_notify_cache();
