// One cluster: members with roles and lag, the balancer endpoints, grow/shrink/delete, statechart and history.
import { trove, follow } from './api.js';
import { catalog, flavorById } from './catalog.js';
import { h, replace, badge, clusterStatus, formatTime, formatBytes, flavorLabel, errorBox, confirmDialog, notify, copyButton } from './ui.js';
import { balancerAddress, deleteCluster } from './clusters.js';
import { drawStatechart } from './statechart.js';
import { timeline } from './timeline.js';

function clusterFacts(cluster) {
  const fact = (title, value) => [h('dt', {}, title), h('dd', {}, value ?? '—')];
  const properties = Object.entries(cluster.extended_properties ?? {}).map(([key, value]) => `${key}=${value}`).join(', ');
  return h('dl', { class: 'facts' },
    fact('Status', h('span', { class: 'status' }, badge(clusterStatus(cluster)))),
    fact('Task', `${cluster.task?.name ?? ''} · ${cluster.task?.description ?? ''}`),
    fact('Lifecycle state', h('code', { class: 'lifecycle-state' }, cluster.lifecycle_state ?? '—')),
    fact('Datastore', `${cluster.datastore?.type ?? ''} ${cluster.datastore?.version ?? ''}`),
    fact('Members', String(cluster.instances?.length ?? 0)),
    fact('Properties', properties || null),
    fact('Created', formatTime(cluster.created)),
    fact('Updated', formatTime(cluster.updated)),
    cluster.fault && fact('Fault', h('span', { class: 'fault' }, cluster.fault)));
}

function endpoints(cluster) {
  const rows = [];
  if (cluster.endpoints) {
    rows.push(['Read-write (primary)', cluster.endpoints.read_write], ['Read-only (replicas)', cluster.endpoints.read_only]);
  } else if (balancerAddress(cluster)) {
    rows.push(['Every member (balanced)', balancerAddress(cluster)]);
  }
  if (!rows.length) return h('p', { class: 'muted' }, 'The balancer has no address yet.');
  return h('div', {},
    h('dl', { class: 'facts' }, rows.map(([title, address]) => [h('dt', {}, title),
      h('dd', { class: 'command' }, h('code', { class: 'endpoint' }, address), copyButton(() => address))])),
    h('p', { class: 'muted' }, `Balancer algorithm: ${cluster.balancer?.algorithm ?? 'default'}`));
}

function membersTable(cluster, flavors, act) {
  const activePassive = cluster.instances.some((member) => member.role);
  return h('div', { class: 'table-scroll' }, h('table', { class: 'data', id: 'members-table' },
    h('thead', {}, h('tr', {}, ['Name', 'Role', 'Weight', 'Status', 'Health', 'Replication lag', 'Address', 'Flavor', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, cluster.instances.map((member) => h('tr', { dataset: { instanceId: member.id, role: member.role ?? member.type } },
      h('td', {}, h('a', { href: `#/instances/${member.id}` }, member.name)),
      h('td', { class: 'role' }, member.role ? h('span', { class: `role-${member.role}` }, member.role) : member.type),
      h('td', { class: 'number' }, member.weight ?? (activePassive ? '' : '—')),
      h('td', { class: 'status' }, badge(member.status)),
      h('td', {}, badge(member.operating_status)),
      h('td', { class: 'number' }, member.role === 'replica' ? formatBytes(member.replication_lag_bytes) : ''),
      h('td', {}, (member.ip ?? []).map((a) => a.address ?? a).join(', ') || '—'),
      h('td', {}, flavorLabel(flavorById(flavors, member.flavor?.id), member.flavor?.id)),
      h('td', {}, h('button', {
        type: 'button', class: 'small danger', 'data-action': 'shrink',
        onclick: async () => {
          if (await confirmDialog('Remove member', `Remove ${member.name} from ${cluster.name} and delete it?`, 'Remove')) {
            act('Shrink', () => trove(`/clusters/${cluster.id}`, { method: 'POST', body: { shrink: [{ id: member.id }] } }));
          }
        },
      }, 'Remove')))))));
}

export async function clusterPage(container, { signal, params: [id] }) {
  const { flavors } = await catalog();
  const title = h('h1', {}, 'Cluster');
  const actions = h('div', { class: 'button-row' });
  const facts = h('div');
  const access = h('div');
  const members = h('div');
  const chart = h('div', { id: 'statechart', class: 'statechart' });
  let highlight = () => {};
  let cluster = null;

  const history = timeline({
    collection: 'clusters', id,
    renderAsOf: (past) => h('div', {}, clusterFacts(past),
      h('ul', { class: 'as-of-members' }, (past.instances ?? []).map((m) => h('li', {}, `${m.name} `, m.role ?? m.type, ' ', m.status ? badge(m.status) : '')))),
    onAsOf: (state) => highlight(state, 'as-of'),
  });

  const act = async (label, work) => {
    try { await work(); notify(`${label} requested for ${cluster.name}.`); } catch (error) { notify(`${label} failed: ${error.message}`, 'error'); }
  };

  replace(container,
    h('p', { class: 'crumbs' }, h('a', { href: '#/clusters' }, 'Clusters'), ' › ', h('span', { id: 'crumb-name' }, id)),
    h('div', { class: 'page-head' }, title, actions),
    h('div', { class: 'grid-2' },
      h('section', { class: 'card' }, h('h2', {}, 'Overview'), facts),
      h('section', { class: 'card' }, h('h2', {}, 'Endpoints'), access)),
    h('section', { class: 'card' }, h('h2', {}, 'Members'), members),
    h('section', { class: 'card' }, h('h2', {}, 'Lifecycle'), chart),
    h('section', { class: 'card' }, h('h2', {}, 'History'), history.element));

  drawStatechart(chart, 'cluster').then((draw) => {
    highlight = draw;
    if (cluster) highlight(cluster.lifecycle_state, 'current');
  }).catch((error) => replace(chart, errorBox(error)));

  const loadEvents = async () => {
    try {
      const { events } = await trove(`/clusters/${id}/events?include=sagas&limit=1000`);
      if (!signal.aborted) history.update(events);
    } catch (error) { if (!signal.aborted) notify(`History: ${error.message}`, 'error'); }
  };

  follow(`/clusters/${id}`, (answer, error) => {
    if (error) {
      replace(facts, error.status === 404 ? h('p', { class: 'muted', id: 'cluster-gone' }, 'This cluster does not exist (any more).') : errorBox(error));
      replace(actions);
      highlight('deleted', 'current');
      return;
    }
    cluster = answer.cluster;
    title.replaceChildren(cluster.name, ' ', badge(clusterStatus(cluster)));
    document.getElementById('crumb-name').textContent = cluster.name;
    replace(facts, clusterFacts(cluster));
    replace(access, endpoints(cluster));
    replace(members, membersTable(cluster, flavors, act));
    replace(actions,
      h('button', {
        type: 'button', class: 'small', id: 'cluster-grow',
        onclick: async () => {
          const first = cluster.instances[0];
          if (!first) return;
          if (await confirmDialog('Grow cluster', `Add one member like the others (${flavorLabel(flavorById(flavors, first.flavor?.id), first.flavor?.id)}, ${first.volume?.size ?? '?'} GB)?`, 'Add member')) {
            act('Grow', () => trove(`/clusters/${id}`, { method: 'POST', body: { grow: [{ flavorRef: first.flavor.id, volume: { size: first.volume.size } }] } }));
          }
        },
      }, 'Add member'),
      h('button', { type: 'button', class: 'small danger', id: 'cluster-delete', onclick: () => deleteCluster(cluster) }, 'Delete cluster'));
    highlight(cluster.lifecycle_state, 'current');
    loadEvents();
  }, signal);
}
