"""Drives Cellar with the real python-troveclient, exactly as its documentation shows.

Reads OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME from the environment; prints one line per step
and exits non-zero on the first surprise.
"""
import json
import os
import subprocess
import sys
import time

from keystoneauth1 import session
from keystoneauth1.identity import v3
from troveclient import client
from troveclient.apiclient import exceptions


def step(message):
    print(f"troveclient: {message}", flush=True)


def wait_for(trove, instance_id, status, timeout=120):
    """Polls until the instance shows `status` with operating_status HEALTHY (as tempest waits)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        shown = trove.instances.get(instance_id)
        if shown.status == status and getattr(shown, "operating_status", "") == "HEALTHY":
            return shown
        if shown.status == "ERROR":
            raise AssertionError(f"instance went to ERROR: {getattr(shown, 'fault', None)}")
        time.sleep(0.5)
    raise AssertionError(f"instance did not reach {status} in {timeout} s (last {shown.status})")


def wait_until_gone(trove, instance_id, timeout=60):
    """Polls until GET answers NotFound."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            trove.instances.get(instance_id)
            time.sleep(0.5)
        except exceptions.NotFound:
            return
    raise AssertionError(f"instance {instance_id} is still there after {timeout} s")


def run_psql(address, sql, user="app", password="correct-horse-battery", database="orders"):
    return subprocess.run(
        ["psql", "-h", address, "-p", "5432", "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
        env={**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"},
        capture_output=True, text=True, timeout=30,
    )


def psql(address, sql, **login):
    """Runs SQL (as the instance's user `app` unless told) on its own address; returns the last result."""
    done = run_psql(address, sql, **login)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def cli(*arguments):
    """Runs `openstack database ...` (the venv's openstack, same OS_* environment); returns parsed JSON or text."""
    openstack = os.path.join(os.path.dirname(sys.executable), "openstack")
    done = subprocess.run([openstack, "database", *arguments], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"openstack database {' '.join(arguments)}: {done.stderr}"
    return json.loads(done.stdout) if "-f" in arguments and done.stdout.strip() else done.stdout


def openstack_commands(instance_id, address, version):
    """`openstack database configuration ...` and `openstack database root ...`, as an operator types them."""
    params = cli("configuration", "parameter", "list", version, "--datastore", "postgresql", "-f", "json")
    assert any(p["Name"] == "statement_timeout" for p in params), params[:3]
    shown = cli("configuration", "parameter", "show", version, "statement_timeout", "--datastore", "postgresql", "-f", "json")
    assert shown["restart_required"] is False or shown["restart_required"] == "False", shown
    group = cli("configuration", "create", "cli-group", json.dumps({"statement_timeout": 60000}),
                "--datastore", "postgresql", "--datastore-version", version, "-f", "json")
    assert any(g["ID"] == group["id"] for g in cli("configuration", "list", "-f", "json"))
    cli("configuration", "attach", instance_id, group["id"])
    assert psql(address, "SHOW statement_timeout") == "1min"
    assert cli("configuration", "show", group["id"], "-f", "json")["instance_count"] == 1
    cli("configuration", "detach", instance_id)
    assert psql(address, "SHOW statement_timeout") == "0"
    cli("configuration", "delete", group["id"])
    step("openstack database configuration parameter list/show, create, list, attach, show, detach, delete")

    enabled = cli("root", "enable", instance_id, "-f", "json")
    assert enabled["name"] == "root" and enabled["password"], enabled
    assert str(cli("root", "show", instance_id, "-f", "json")["is_root_enabled"]) == "True"
    cli("root", "disable", instance_id)
    assert str(cli("root", "show", instance_id, "-f", "json")["is_root_enabled"]) == "False"
    step("openstack database root enable, show, disable")


def configuration_groups(trove, instance_id, address, version):
    """The issue's must-show: a dynamic and a restart-only value, attach, restart, detach."""
    for values, named in [({"no_such_setting": 1}, "no_such_setting"), ({"work_mem": 1}, "work_mem"),
                          ({"max_connections": "many"}, "max_connections")]:
        try:
            trove.configurations.create("bad", json.dumps(values), datastore="postgresql", datastore_version=version)
            raise AssertionError(f"{values} was accepted")
        except exceptions.BadRequest as refused:
            assert named in str(refused), str(refused)
    step("bad values refused with 400 naming the parameter")

    parameters = {p.name: p for p in trove.configuration_parameters.parameters("postgresql", version)}
    assert parameters["work_mem"].restart_required is False and parameters["max_connections"].restart_required is True
    group = trove.configurations.create("tuned", json.dumps({"work_mem": 8192, "max_connections": 50}),
                                        datastore="postgresql", datastore_version=version)
    trove.instances.update(instance_id, configuration=group.id)
    assert psql(address, "SHOW work_mem") == "8MB"
    assert psql(address, "SHOW max_connections") == "100"
    assert trove.instances.get(instance_id).status == "RESTART_REQUIRED"
    assert trove.configurations.get(group.id).instance_count == 1
    step("attached: work_mem live at once, RESTART_REQUIRED for max_connections")

    trove.instances.restart(instance_id)
    wait_for(trove, instance_id, "ACTIVE")
    assert psql(address, "SHOW max_connections") == "50"
    step("restarted: max_connections live, ACTIVE")

    trove.instances.update(instance_id, remove_configuration=True)
    assert psql(address, "SHOW work_mem") == "4MB"
    trove.instances.restart(instance_id)
    wait_for(trove, instance_id, "ACTIVE")
    assert psql(address, "SHOW max_connections") == "100"
    trove.configurations.delete(group.id)
    step("detached: values reverted (max_connections after a restart); group deleted")


def replicas(trove, source_id, source_address):
    """A replica from the python API and one from `openstack database instance create --replica-of`; promote,
    eject and detach through the openstack CLI."""
    replica = trove.instances.create("e2e-orders-replica", replica_of=source_id)
    shown = wait_for(trove, replica.id, "ACTIVE")
    assert shown.replica_of["id"] == source_id, shown.replica_of
    assert psql(shown.ip[0], "SELECT n FROM kept") == "7"
    refused = run_psql(shown.ip[0], "INSERT INTO kept VALUES (8)")
    assert refused.returncode != 0 and "read-only" in refused.stderr, refused.stderr
    step("replica_of: a replica with the source's data; writes refused there")

    created = cli("instance", "create", "e2e-orders-replica-2", "--replica-of", source_id, "-f", "json")
    second = wait_for(trove, created["id"], "ACTIVE")
    assert second.replica_of["id"] == source_id, second.replica_of
    assert sorted(r["id"] for r in trove.instances.get(source_id).replicas) == sorted([replica.id, second.id])
    step("openstack database instance create --replica-of; the source lists both replicas")

    def source_of(instance_id):
        return (getattr(trove.instances.get(instance_id), "replica_of", None) or {}).get("id")

    def until(what, condition, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if condition():
                return
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting until {what}")

    cli("instance", "promote", second.id)
    until("the switchover ends", lambda: source_of(source_id) == second.id and source_of(second.id) is None
          and trove.instances.get(second.id).status == "ACTIVE")
    assert source_of(replica.id) == second.id
    assert psql(second.ip[0], "INSERT INTO kept VALUES (9); SELECT count(*) FROM kept") == "2"
    step("openstack database instance promote: the second replica is the source, the old source and the other replica follow it")

    # The new source dies (its server killed, once the first replica has its last row); eject makes the first
    # replica the source.
    until("the first replica follows the new source", lambda: run_psql(replica.ip[0], "SELECT count(*) FROM kept").stdout.strip() == "2")
    subprocess.run(["pkill", "-9", "-f", f"{second.id}/data"], check=False)
    cli("instance", "eject", replica.id)
    until("the ejection ends", lambda: source_of(replica.id) is None and trove.instances.get(replica.id).status == "ACTIVE")
    assert source_of(source_id) == replica.id
    assert psql(replica.ip[0], "INSERT INTO kept VALUES (10); SELECT count(*) FROM kept") == "3"
    step("openstack database instance eject: the first replica takes over from the dead source")

    until("the original source follows", lambda: run_psql(source_address, "SELECT count(*) FROM kept").stdout.strip() == "3")
    cli("instance", "detach", source_id)
    until("the detach ends", lambda: source_of(source_id) is None and trove.instances.get(source_id).status == "ACTIVE")
    detached = wait_for(trove, source_id, "ACTIVE")
    assert psql(detached.ip[0], "INSERT INTO kept VALUES (11); SELECT count(*) FROM kept") == "4"
    step("openstack database instance detach: the original source takes writes on its own again")
    for instance_id in (replica.id, second.id):
        trove.instances.delete(instance_id)
    for instance_id in (replica.id, second.id):
        wait_until_gone(trove, instance_id)


def backups(trove, instance_id, address, flavor_id):
    """A backup from the python API, `openstack database backup list|show|delete`, and a restore with
    `openstack database instance create --backup` holding exactly the rows of the backup's moment."""
    psql(address, "CREATE TABLE marks (n int); INSERT INTO marks VALUES (1); SELECT 1")
    backup = trove.backups.create("e2e-backup", instance_id, description="from troveclient")
    assert backup.status == "NEW", backup.status
    deadline = time.time() + 180
    while (status := trove.backups.get(backup.id).status) != "COMPLETED":
        assert status != "FAILED", "the backup failed"
        assert time.time() < deadline, f"the backup is still {status}"
        time.sleep(1)
    wait_for(trove, instance_id, "ACTIVE")
    assert backup.id in [b.id for b in trove.backups.list()]
    assert backup.id in [b.id for b in trove.instances.backups(instance_id)]
    step("troveclient: backup NEW, then COMPLETED; listed, and among the instance's")
    psql(address, "INSERT INTO marks VALUES (2); SELECT 1")

    shown = cli("backup", "show", backup.id, "-f", "json")
    assert shown["status"] == "COMPLETED" and shown["instance_id"] == instance_id, shown
    assert backup.id in [b["ID"] for b in cli("backup", "list", "-f", "json")]
    created = cli("instance", "create", "e2e-restored", "--flavor", flavor_id, "--size", "1", "--backup", backup.id, "-f", "json")
    restored = wait_for(trove, created["id"], "ACTIVE", timeout=240)
    assert restored.datastore["type"] == "postgresql", restored.datastore
    rows = psql(restored.ip[0], "SELECT n FROM marks ORDER BY n")
    assert rows == "1", f"the restored instance has {rows!r}, not the backup's rows"
    step("openstack database backup show/list; instance create --backup: exactly the backup's rows")
    trove.instances.delete(created["id"])
    wait_until_gone(trove, created["id"])
    cli("backup", "delete", backup.id)
    deadline = time.time() + 60
    while backup.id in [b.id for b in trove.backups.list()]:
        assert time.time() < deadline, "the deleted backup is still listed"
        time.sleep(1)
    step("openstack database backup delete: gone")


def main():
    auth = v3.Password(
        auth_url=os.environ["OS_AUTH_URL"],
        username=os.environ["OS_USERNAME"],
        password=os.environ["OS_PASSWORD"],
        project_name=os.environ["OS_PROJECT_NAME"],
        user_domain_name="Default",
        project_domain_name="Default",
    )
    trove = client.Client("1.0", session=session.Session(auth=auth))

    datastores = trove.datastores.list()
    names = [d.name for d in datastores]
    assert "postgresql" in names, names
    versions = trove.datastore_versions.list("postgresql")
    assert versions, "postgresql has no versions"
    step(f"datastores {names}, postgresql versions {[v.name for v in versions]}")

    limits = trove.limits.list()
    absolute = [limit for limit in limits if getattr(limit, "verb", "") == "ABSOLUTE"]
    assert absolute and absolute[0].max_instances > 0, limits
    step(f"limits: max_instances {absolute[0].max_instances}")

    flavors = trove.flavors.list()
    assert flavors, "no flavors"
    flavor = flavors[0]
    step(f"flavors {[f.name for f in flavors]}")

    instance = trove.instances.create(
        "e2e-orders",
        flavor.str_id if hasattr(flavor, "str_id") else flavor.id,
        volume={"size": 1},
        databases=[{"name": "orders"}, {"name": "billing", "character_set": "UTF8"}],
        users=[{"name": "app", "password": "correct-horse-battery", "databases": [{"name": "orders"}]}],
        datastore="postgresql",
        datastore_version=versions[0].name,
    )
    assert instance.status == "BUILD", instance.status
    step(f"created {instance.id} ({instance.status})")

    listed = [i.id for i in trove.instances.list()]
    assert instance.id in listed, listed
    shown = trove.instances.get(instance.id)
    assert shown.name == "e2e-orders" and shown.status in ("BUILD", "ACTIVE"), (shown.name, shown.status)
    assert shown.volume["size"] == 1, shown.volume
    step(f"listed and shown: {shown.name} {shown.status} flavor {shown.flavor['id']}")

    databases = sorted(d.name for d in trove.databases.list(instance.id))
    assert databases == ["billing", "orders"], databases
    users = trove.users.list(instance.id)
    assert [u.name for u in users] == ["app"], [u.name for u in users]
    assert [d["name"] for d in users[0].databases] == ["orders"], users[0].databases
    step(f"databases {databases}, users {[u.name for u in users]}")

    active = wait_for(trove, instance.id, "ACTIVE")
    address = active.ip[0]
    step(f"ACTIVE on {address}")
    created = psql(address, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7); SELECT n FROM kept")
    assert created == "7", created
    step("psql as app: created a table in orders")

    trove.instances.restart(instance.id)
    wait_for(trove, instance.id, "ACTIVE")
    assert psql(address, "SELECT n FROM kept") == "7"
    step("restarted: ACTIVE again, data kept")

    trove.databases.create(instance.id, [{"name": "extra"}])
    trove.users.grant(instance.id, "app", ["extra"])
    assert sorted(d.name for d in trove.databases.list(instance.id)) == ["billing", "extra", "orders"]
    assert sorted(d["name"] for d in trove.users.get(instance.id, "app").databases) == ["extra", "orders"]
    name, root_password = trove.root.create(instance.id)
    assert name == "root" and root_password
    assert trove.root.is_root_enabled(instance.id).rootEnabled is True
    assert psql(address, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
                user="root", password=root_password, database="postgres") == "t"
    step("database extra created and granted to app; root enabled, a superuser login")
    trove.root.delete(instance.id)
    assert run_psql(address, "SELECT 1", user="root", password=root_password, database="postgres").returncode != 0
    assert trove.root.is_root_enabled(instance.id).rootEnabled is False
    step("root disabled: that login fails")

    replicas(trove, instance.id, address)
    configuration_groups(trove, instance.id, address, versions[0].name)
    openstack_commands(instance.id, address, versions[0].name)
    backups(trove, instance.id, address, flavor.str_id if hasattr(flavor, "str_id") else flavor.id)

    try:
        trove.instances.get("00000000-0000-0000-0000-000000000000")
        raise AssertionError("an unknown instance was found")
    except exceptions.NotFound:
        step("unknown instance: NotFound")

    trove.instances.delete(instance.id)
    wait_until_gone(trove, instance.id)
    step("deleted")
    print("troveclient flow: ok")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # noqa: BLE001 - report anything, fail the test
        print(f"troveclient flow FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
