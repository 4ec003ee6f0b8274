"""The Trove user's cluster script, with the real python-troveclient, then `openstack database cluster ...`.

Reads OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME from the environment; prints one line per step
and exits non-zero on the first surprise.
"""
import os
import subprocess
import sys
import time

from keystoneauth1 import session
from keystoneauth1.identity import v3
from troveclient import client
from troveclient.apiclient import exceptions

from troveclient_flow import step
from troveclient_mariadb import mariadb


def wait_for_cluster(trove, cluster_id, members, timeout=300):
    """Polls until the cluster's task is NONE with `members` members, every one ACTIVE."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        cluster = trove.clusters.get(cluster_id)
        statuses = [member.get("status") for member in cluster.instances]
        if cluster.task["name"] == "NONE" and len(statuses) == members and set(statuses) == {"ACTIVE"}:
            return cluster
        if getattr(cluster, "fault", None):
            raise AssertionError(f"cluster failed: {cluster.fault}")
        time.sleep(1)
    raise AssertionError(f"cluster did not become ready in {timeout} s: task {cluster.task}, members {statuses}")


def wait_until_cluster_gone(trove, cluster_id, timeout=180):
    """Polls until the cluster answers NotFound."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            trove.clusters.get(cluster_id)
            time.sleep(1)
        except exceptions.NotFound:
            return
    raise AssertionError(f"cluster {cluster_id} is still there after delete")


def openstack(*arguments, check=True):
    """`openstack database cluster ...` from the venv, same OS_* environment."""
    command = os.path.join(os.path.dirname(sys.executable), "openstack")
    done = subprocess.run([command, "database", "cluster", *arguments], capture_output=True, text=True, timeout=120)
    assert not check or done.returncode == 0, f"openstack database cluster {' '.join(arguments)}: {done.stderr} {done.stdout}"
    return done


def main():
    auth = v3.Password(
        auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"], password=os.environ["OS_PASSWORD"],
        project_name=os.environ["OS_PROJECT_NAME"], user_domain_name="Default", project_domain_name="Default",
    )
    trove = client.Client("1.0", session=session.Session(auth=auth))

    # As in the Trove user's script.
    instances = [{"flavorRef": "1", "volume": {"size": 10}} for _ in range(3)]
    cluster = trove.clusters.create("test1", "mariadb", "10.11", instances=instances, locality=None,
                                    extended_properties=None, configuration=None)
    cluster = wait_for_cluster(trove, cluster.id, 3)
    members = cluster.instances
    addresses = [member["ip"][0]["address"] for member in members]
    step(f"cluster {cluster.id}: task NONE, members ACTIVE on {', '.join(addresses)}, balancer on {cluster.ip[0]['address']}")

    assert not trove.root.is_cluster_root_enabled(cluster).rootEnabled
    _, password = trove.root.create_cluster_root(cluster)
    assert trove.root.is_cluster_root_enabled(cluster).rootEnabled
    balanced = mariadb(cluster.ip[0]["address"], "root", password, "", "SELECT 1")
    assert balanced.returncode == 0, balanced.stderr
    step("create_cluster_root: root logs in through the balancer; is_cluster_root_enabled says so")
    written = mariadb(addresses[0], "root", password, "",
                      "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY); INSERT INTO shop.items VALUES (7)")
    assert written.returncode == 0, written.stderr
    for address in addresses:
        row = mariadb(address, "root", password, "", "SELECT id FROM shop.items")
        assert row.stdout.strip() == "7", (address, row.stdout, row.stderr)
        size = mariadb(address, "root", password, "", "SHOW STATUS LIKE 'wsrep_cluster_size'")
        assert size.stdout.split() == ["wsrep_cluster_size", "3"], (address, size.stdout)
    step("a row written on one member is read on the other two; wsrep_cluster_size = 3 on each")

    listed = openstack("list", "-f", "value", "-c", "ID").stdout.split()
    assert cluster.id in listed, listed
    shown = openstack("show", cluster.id, "-f", "value", "-c", "task_name").stdout.strip()
    assert shown == "NONE", shown
    members_listed = openstack("list", "instances", cluster.id, "-f", "value", "-c", "ID").stdout.split()
    assert sorted(members_listed) == sorted(member["id"] for member in members), members_listed
    openstack("grow", cluster.id, "--instance", "flavor=1,volume=10")
    grown = wait_for_cluster(trove, cluster.id, 4)
    newcomer = [m["id"] for m in grown.instances if m["id"] not in [member["id"] for member in members]][0]
    step("openstack database cluster list, show, list instances, grow to 4")

    openstack("shrink", cluster.id, newcomer)
    wait_for_cluster(trove, cluster.id, 3)
    refused = openstack("shrink", cluster.id, members[0]["id"], check=False)
    assert refused.returncode != 0 and "at least 3" in refused.stderr, refused.stderr
    step("openstack database cluster shrink to 3; shrinking to 2 refused naming the minimum")

    openstack("delete", cluster.id)
    wait_until_cluster_gone(trove, cluster.id)
    for member in grown.instances:
        try:
            trove.instances.get(member["id"])
            raise AssertionError(f"member {member['id']} outlived its cluster")
        except exceptions.NotFound:
            pass
    step("openstack database cluster delete: the cluster and its members are gone")

    # PostgreSQL clusters are active-passive: weights in the member dicts (the python API passes them as given)...
    weighted = [{"flavorRef": "1", "volume": {"size": 1}, "weight": weight} for weight in (50, 100, 10)]
    orders = wait_for_cluster(trove, trove.clusters.create("orders", "postgresql", "15", instances=weighted).id, 3)
    assert [m.get("role") for m in orders.instances] == ["primary", "replica", "replica"], orders.instances
    assert [m.get("weight") for m in orders.instances] == [50, 100, 10], orders.instances
    assert orders.endpoints["read_write"].endswith(":5432") and orders.endpoints["read_only"].endswith(":5433"), orders.endpoints
    step("a PostgreSQL cluster with weights 50/100/10: a primary, two replicas, read-write and read-only endpoints")

    # ... and through the openstack CLI's extended properties.
    created = openstack("create", "orders2", "postgresql", "15", "--instance", "flavor=1,volume=1", "--instance", "flavor=1,volume=1",
                        "--extended-properties", "weights=1:0,synchronous=true", "-f", "value", "-c", "id").stdout.strip()
    second = wait_for_cluster(trove, created, 2)
    assert [m.get("weight") for m in second.instances] == [1, 0], second.instances
    assert second.extended_properties.get("synchronous") == "true", second.extended_properties
    step("openstack database cluster create --extended-properties weights=1:0,synchronous=true")
    for cluster_id in (orders.id, created):
        openstack("delete", cluster_id)
    for cluster_id in (orders.id, created):
        wait_until_cluster_gone(trove, cluster_id)
    step("both PostgreSQL clusters deleted")
    print("troveclient cluster: ok")


if __name__ == "__main__":
    main()
