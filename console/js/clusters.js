// The clusters table, refreshed by the server's long poll.
import { trove, follow } from './api.js';
import { h, replace, badge, clusterStatus, formatTime, errorBox, confirmDialog, notify } from './ui.js';

export function balancerAddress(cluster) {
  const address = cluster.balancer?.address ?? cluster.ip?.[0]?.address;
  if (!address) return null;
  return cluster.balancer?.port ? `${address}:${cluster.balancer.port}` : address;
}

export async function deleteCluster(cluster) {
  if (!await confirmDialog('Delete cluster', `Delete cluster ${cluster.name}, its ${cluster.instances?.length ?? ''} members and their volumes?`)) return false;
  try {
    await trove(`/clusters/${cluster.id}`, { method: 'DELETE' });
    notify(`Cluster ${cluster.name} is being deleted.`);
    return true;
  } catch (error) {
    notify(`Deleting ${cluster.name} failed: ${error.message}`, 'error');
    return false;
  }
}

export async function clustersView(container, { signal }) {
  const body = h('tbody');
  const status = h('p', { class: 'muted live' }, 'Connecting…');
  replace(container,
    h('div', { class: 'page-head' },
      h('h1', {}, 'Clusters'),
      h('a', { class: 'button primary', href: '#/launch-cluster', id: 'launch-cluster' }, '+ Launch Cluster')),
    h('div', { class: 'table-scroll' },
      h('table', { id: 'clusters-table', class: 'data' },
        h('thead', {}, h('tr', {}, ['Name', 'Datastore', 'Members', 'Status', 'Task', 'Balancer', 'Created', 'Actions'].map((t) => h('th', {}, t)))),
        body)),
    status);

  follow('/clusters', (answer, error) => {
    if (error) { replace(status, errorBox(error)); return; }
    const clusters = answer.clusters;
    replace(body, clusters.length ? clusters.map((cluster) => h('tr', { dataset: { clusterId: cluster.id } },
      h('td', {}, h('a', { href: `#/clusters/${cluster.id}`, class: 'cluster-link' }, cluster.name)),
      h('td', {}, `${cluster.datastore?.type ?? ''} ${cluster.datastore?.version ?? ''}`),
      h('td', { class: 'number' }, cluster.instances?.length ?? 0),
      h('td', { class: 'status', title: cluster.fault ?? '' }, badge(clusterStatus(cluster))),
      h('td', { class: 'task' }, cluster.task?.description ?? cluster.task?.name ?? ''),
      h('td', {}, balancerAddress(cluster) ?? '—'),
      h('td', { class: 'nowrap' }, formatTime(cluster.created)),
      h('td', { class: 'actions' }, h('button', {
        type: 'button', class: 'small danger', 'data-action': 'delete', onclick: () => deleteCluster(cluster),
      }, 'Delete'))))
      : h('tr', { class: 'empty' }, h('td', { colspan: 8 }, 'No clusters yet.')));
    status.textContent = `Updated ${new Date().toLocaleTimeString()} · live`;
  }, signal);
}
