"""The Trove user's own MariaDB script, with the real python-troveclient and the `openstack database` commands.

Reads OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME from the environment; prints one line per step
and exits non-zero on the first surprise.
"""
import os
import subprocess
import sys

from keystoneauth1 import session
from keystoneauth1.identity import v3
from troveclient import client
from troveclient.apiclient import exceptions

from troveclient_flow import cli, step, wait_for, wait_until_gone


def mariadb(address, user, password, database, sql="SELECT 1"):
    """`mariadb` against the instance's address (the password in the environment, not the command line)."""
    return subprocess.run(
        ["mariadb", "--no-defaults", "-h", address, "-P", "3306", "-u", user, "--connect-timeout=5", "--batch",
         "--skip-column-names", "-e", sql, database],
        env={**os.environ, "MYSQL_PWD": password}, capture_output=True, text=True, timeout=30,
    )


def main():
    auth = v3.Password(
        auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"], password=os.environ["OS_PASSWORD"],
        project_name=os.environ["OS_PROJECT_NAME"], user_domain_name="Default", project_domain_name="Default",
    )
    trove = client.Client("1.0", session=session.Session(auth=auth))
    datastores = {d.name: d for d in trove.datastores.list()}
    assert "mariadb" in datastores, "no mariadb datastore"
    mysql_family = datastores["mariadb"]
    assert getattr(mysql_family, "default", False), "mariadb is not the default datastore out of the box"
    step("GET /datastores: mariadb is the default datastore, version " + mysql_family.default_version)

    # The Trove user's script, verbatim but for ids: python-troveclient has no datastore_id/datastore_version_id
    # parameters (they fall into **kwargs and are not sent), so the body has no datastore: the default one is used.
    databases = [{"name": "sampledb0", "character_set": "utf8", "collate": "utf8_general_ci"}, {"name": "sampledb1"}]
    users = [{"name": "admin", "password": "admin", "databases": [{"name": "sampledb1"}]}]
    instance = trove.instances.create(
        "sample", "1", volume={"size": 1}, databases=databases, users=users, nics=[{"net-id": "private"}],
        datastore_id=mysql_family.id, datastore_version_id=mysql_family.default_version,
    )
    shown = wait_for(trove, instance.id, "ACTIVE")
    address = shown.ip[0]
    assert shown.datastore["type"] == "mariadb", shown.datastore
    step(f"created without a datastore: mariadb instance ACTIVE/HEALTHY on {address}")

    # The same call on PostgreSQL is refused up front: utf8_general_ci is MySQL's collation.
    try:
        trove.instances.create("sample-pg", "1", volume={"size": 1}, databases=databases, users=users,
                               nics=[{"net-id": "private"}], datastore="postgresql")
        raise AssertionError("a PostgreSQL instance with MySQL's collation was accepted")
    except exceptions.BadRequest as refused:
        assert "databases[0]" in str(refused) and "utf8_general_ci" in str(refused), str(refused)
    assert "sample-pg" not in [i.name for i in trove.instances.list()], "the refused create left an instance"
    step("the same databases on postgresql: 400 naming databases[0]'s collation, nothing created")

    done = mariadb(address, "admin", "admin", "sampledb1")
    assert done.returncode == 0, done.stderr
    refused = mariadb(address, "admin", "admin", "sampledb0")
    assert refused.returncode != 0 and "Access denied" in refused.stderr, refused.stderr
    step("admin logs in to sampledb1 and is refused sampledb0")

    # The client spells the option `--character_set`.
    cli("db", "create", instance.id, "extra", "--character_set", "utf8", "--collate", "utf8_general_ci")
    databases = cli("db", "list", instance.id, "-f", "json")
    assert "extra" in [d["Name"] for d in databases], databases
    step("openstack database db create --character_set utf8 --collate utf8_general_ci")

    created = cli("instance", "create", "web", "--flavor", "1", "--size", "1", "--datastore", "mariadb",
                  "--datastore-version", "10.11", "--databases", "shop", "--users", "clerk:clerk-pass", "-f", "json")
    web = created["id"]
    wait_for(trove, web, "ACTIVE")
    step("openstack database instance create --datastore mariadb: ACTIVE")

    for instance_id in (instance.id, web):
        trove.instances.delete(instance_id)
    for instance_id in (instance.id, web):
        wait_until_gone(trove, instance_id)
    step("deleted")
    print("troveclient mariadb: ok")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # noqa: BLE001 - report anything, fail the test
        print(f"troveclient mariadb FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
