-- API processes keep each project's instance rows in memory between changes: any change of a project's
-- instances (the projection's writes) says so on cellar_cache ('instances:<project>'); a renamed configuration
-- group changes every row that shows its name ('instances').
CREATE FUNCTION cellar_notify_instances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'instances' THEN
        PERFORM pg_notify('cellar_cache', 'instances:' || coalesce(NEW.project_id, OLD.project_id));
    ELSE
        PERFORM pg_notify('cellar_cache', 'instances');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER instances_changed AFTER INSERT OR UPDATE OR DELETE ON instances
    FOR EACH ROW EXECUTE FUNCTION cellar_notify_instances();
CREATE TRIGGER configuration_groups_renamed AFTER UPDATE OF name OR DELETE ON configuration_groups
    FOR EACH STATEMENT EXECUTE FUNCTION cellar_notify_instances();
