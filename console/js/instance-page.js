// One instance: status, how to connect, databases and users, metrics, lifecycle statechart and history.
import { trove, follow } from './api.js';
import { catalog, flavorById, isPostgres } from './catalog.js';
import { h, replace, badge, formatTime, flavorLabel, errorBox, confirmDialog, formDialog, notify, copyButton } from './ui.js';
import { instanceActions } from './instances.js';
import { drawStatechart } from './statechart.js';
import { plots } from './plots.js';
import { timeline } from './timeline.js';
import { backupsSection } from './backups.js';

const encodeUser = (user) => encodeURIComponent(user.host && user.host !== '%' ? `${user.name}@${user.host}` : user.name);

/** The facts of an instance (also used for its past self in the time-travel box). */
export function instanceFacts(instance, flavors = []) {
  const fact = (title, value) => [h('dt', {}, title), h('dd', {}, value ?? '—')];
  return h('dl', { class: 'facts' },
    fact('Status', h('span', { class: 'status' }, badge(instance.status))),
    fact('Operating status', badge(instance.operating_status)),
    fact('Lifecycle state', h('code', { class: 'lifecycle-state' }, instance.lifecycle_state ?? '—')),
    fact('Datastore', `${instance.datastore?.type ?? ''} ${instance.datastore?.version ?? ''}`),
    fact('Flavor', flavorLabel(flavorById(flavors, instance.flavor?.id), instance.flavor?.id)),
    fact('Volume', instance.volume ? `${instance.volume.size} GB` : null),
    fact('Addresses', (instance.ip ?? []).join(', ') || null),
    fact('Configuration group', instance.configuration ? (instance.configuration.name ?? instance.configuration.id) : null),
    instance.replica_of && fact('Replica of', h('a', { href: `#/instances/${instance.replica_of.id}` }, instance.replica_of.id)),
    instance.replicas?.length > 0 && fact('Replicas', instance.replicas.map((r) => h('a', { href: `#/instances/${r.id}`, class: 'chip' }, r.id))),
    instance.cluster_id && fact('Cluster', h('a', { href: `#/clusters/${instance.cluster_id}` }, instance.cluster_id)),
    fact('Created', formatTime(instance.created)),
    fact('Updated', formatTime(instance.updated)),
    instance.fault && fact('Fault', h('span', { class: 'fault' }, instance.fault.message)));
}

function connectBox(instance, users, databases) {
  const ip = instance.ip?.[0] ?? '<address>';
  const userSelect = h('select', { id: 'connect-user' }, users.length ? users.map((u) => h('option', { value: u.name }, u.name)) : h('option', { value: '<user>' }, '<user>'));
  const dbSelect = h('select', { id: 'connect-database' }, databases.length ? databases.map((d) => h('option', { value: d.name }, d.name)) : h('option', { value: '<database>' }, '<database>'));
  const command = h('code', { id: 'connect-command' });
  const write = () => {
    command.textContent = isPostgres(instance.datastore?.type)
      ? `psql "host=${ip} port=5432 user=${userSelect.value} dbname=${dbSelect.value}"`
      : `mariadb -h ${ip} -P 3306 -u ${userSelect.value} -p ${dbSelect.value}`;
  };
  userSelect.addEventListener('change', write);
  dbSelect.addEventListener('change', write);
  write();
  return h('div', { class: 'connect' },
    h('div', { class: 'inline-fields' }, h('label', {}, 'User ', userSelect), h('label', {}, 'Database ', dbSelect)),
    h('div', { class: 'command' }, command, copyButton(() => command.textContent)));
}

function databasesSection(instance, databases, reload) {
  const name = h('input', { id: 'new-database-name', placeholder: 'name', required: true });
  const charset = h('input', { id: 'new-database-charset', placeholder: 'character set (optional)' });
  const collate = h('input', { id: 'new-database-collate', placeholder: 'collation (optional)' });
  const error = h('div');
  const form = h('form', { class: 'inline-form', id: 'new-database' }, name, charset, collate, h('button', { type: 'submit', class: 'primary small' }, 'Create database'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(error);
    const database = { name: name.value.trim() };
    if (charset.value.trim()) database.character_set = charset.value.trim();
    if (collate.value.trim()) database.collate = collate.value.trim();
    try {
      await trove(`/instances/${instance.id}/databases`, { method: 'POST', body: { databases: [database] } });
      notify(`Database ${database.name} created.`);
      reload();
    } catch (failure) { replace(error, errorBox(failure)); }
  });
  return h('div', {},
    h('div', { class: 'table-scroll' }, h('table', { class: 'data compact', id: 'databases-table' },
      h('thead', {}, h('tr', {}, ['Name', 'Character set', 'Collation', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, databases.length ? databases.map((d) => h('tr', { dataset: { database: d.name } },
        h('td', {}, d.name), h('td', {}, d.character_set ?? ''), h('td', {}, d.collate ?? ''),
        h('td', {}, h('button', {
          type: 'button', class: 'small danger',
          onclick: async () => {
            if (!await confirmDialog('Delete database', `Delete database ${d.name} and all its data?`)) return;
            try {
              await trove(`/instances/${instance.id}/databases/${encodeURIComponent(d.name)}`, { method: 'DELETE' });
              reload();
            } catch (failure) { notify(failure.message, 'error'); }
          },
        }, 'Delete')))) : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No databases.'))))),
    error, form);
}

function usersSection(instance, users, databases, reload) {
  const name = h('input', { id: 'new-user-name', placeholder: 'name', required: true, autocomplete: 'off' });
  const password = h('input', { id: 'new-user-password', type: 'password', placeholder: 'password', required: true, autocomplete: 'new-password' });
  const host = h('input', { id: 'new-user-host', placeholder: 'host (default %)' });
  const grants = databases.map((d) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: d.name }), d.name));
  const error = h('div');
  const form = h('form', { class: 'inline-form', id: 'new-user' }, name, password, host, grants,
    h('button', { type: 'submit', class: 'primary small' }, 'Create user'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(error);
    const user = { name: name.value.trim(), password: password.value,
      databases: grants.map((g) => g.firstChild).filter((box) => box.checked).map((box) => ({ name: box.value })) };
    if (host.value.trim()) user.host = host.value.trim();
    try {
      await trove(`/instances/${instance.id}/users`, { method: 'POST', body: { users: [user] } });
      notify(`User ${user.name} created.`);
      reload();
    } catch (failure) { replace(error, errorBox(failure)); }
  });
  const act = async (work) => {
    try { await work(); reload(); } catch (failure) { notify(failure.message, 'error'); }
  };
  return h('div', {},
    h('div', { class: 'table-scroll' }, h('table', { class: 'data compact', id: 'users-table' },
      h('thead', {}, h('tr', {}, ['Name', 'Host', 'Databases', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, users.length ? users.map((u) => h('tr', { dataset: { user: u.name } },
        h('td', {}, u.name), h('td', {}, u.host ?? '%'),
        h('td', {}, u.databases.map((d) => h('span', { class: 'chip' }, d.name, h('button', {
          type: 'button', class: 'chip-x', title: `Revoke ${d.name}`,
          onclick: () => act(() => trove(`/instances/${instance.id}/users/${encodeUser(u)}/databases/${encodeURIComponent(d.name)}`, { method: 'DELETE' })),
        }, '×')))),
        h('td', { class: 'button-row' },
          h('button', {
            type: 'button', class: 'small',
            onclick: async () => {
              const open = databases.filter((d) => !u.databases.some((g) => g.name === d.name));
              if (!open.length) { notify(`${u.name} already has every database.`); return; }
              const values = await formDialog(`Grant databases to ${u.name}`, open.map((d) => h('label', { class: 'check' },
                h('input', { type: 'checkbox', name: `db:${d.name}`, value: d.name }), d.name)), 'Grant');
              const chosen = values ? Object.values(values) : [];
              if (chosen.length) act(() => trove(`/instances/${instance.id}/users/${encodeUser(u)}/databases`, { method: 'PUT', body: { databases: chosen.map((n) => ({ name: n })) } }));
            },
          }, 'Grant'),
          h('button', {
            type: 'button', class: 'small danger',
            onclick: async () => {
              if (await confirmDialog('Delete user', `Delete user ${u.name}@${u.host ?? '%'}?`)) {
                act(() => trove(`/instances/${instance.id}/users/${encodeUser(u)}`, { method: 'DELETE' }));
              }
            },
          }, 'Delete')))) : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No users.'))))),
    error, form);
}

export async function instancePage(container, { signal, params: [id] }) {
  const { flavors } = await catalog();
  const title = h('h1', {}, 'Instance');
  const actions = h('div');
  const facts = h('div');
  const connect = h('div');
  const databasesBox = h('div');
  const usersBox = h('div');
  const backupsBox = h('div');
  const metrics = h('div', { id: 'plots' }, h('p', { class: 'muted' }, 'Loading metrics…'));
  const chart = h('div', { id: 'statechart', class: 'statechart' });
  let highlight = () => {};
  let instance = null;

  const history = timeline({
    collection: 'instances', id,
    renderAsOf: (past) => instanceFacts(past, flavors),
    onAsOf: (state) => highlight(state, 'as-of'),
  });

  replace(container,
    h('p', { class: 'crumbs' }, h('a', { href: '#/instances' }, 'Instances'), ' › ', h('span', { id: 'crumb-name' }, id)),
    h('div', { class: 'page-head' }, title, actions),
    h('div', { class: 'grid-2' },
      h('section', { class: 'card' }, h('h2', {}, 'Overview'), facts),
      h('section', { class: 'card' }, h('h2', {}, 'Connect'), connect)),
    h('div', { class: 'grid-2' },
      h('section', { class: 'card' }, h('h2', {}, 'Databases'), databasesBox),
      h('section', { class: 'card' }, h('h2', {}, 'Users'), usersBox)),
    h('section', { class: 'card' }, h('h2', {}, 'Backups'), backupsBox),
    h('section', { class: 'card' }, h('h2', {}, 'Metrics · last hour'), metrics),
    h('section', { class: 'card' }, h('h2', {}, 'Lifecycle'), chart),
    h('section', { class: 'card' }, h('h2', {}, 'History'), history.element));

  drawStatechart(chart, 'instance').then((draw) => {
    highlight = draw;
    if (instance) highlight(instance.lifecycle_state, 'current');
  }).catch((error) => replace(chart, errorBox(error)));

  const loadGuestObjects = async () => {
    if (!instance) return;
    try {
      const [{ databases }, { users }] = await Promise.all([
        trove(`/instances/${id}/databases`), trove(`/instances/${id}/users`)]);
      if (signal.aborted) return;
      replace(databasesBox, databasesSection(instance, databases, loadGuestObjects));
      replace(usersBox, usersSection(instance, users, databases, loadGuestObjects));
      replace(connect, connectBox(instance, users, databases));
    } catch (error) {
      if (!signal.aborted) replace(databasesBox, errorBox(error));
    }
  };
  const loadBackups = async () => {
    try {
      const { backups } = await trove(`/instances/${id}/backups`);
      if (!signal.aborted && instance) replace(backupsBox, backupsSection(instance, backups, loadBackups));
    } catch (error) { if (!signal.aborted) replace(backupsBox, errorBox(error)); }
  };
  const loadEvents = async () => {
    try {
      const { events } = await trove(`/instances/${id}/events?include=sagas&limit=1000`);
      if (!signal.aborted) history.update(events);
    } catch (error) { if (!signal.aborted) notify(`History: ${error.message}`, 'error'); }
  };
  const loadMetrics = async () => {
    try {
      const answer = await trove(`/instances/${id}/metrics?minutes=60`);
      if (!signal.aborted) replace(metrics, plots(answer.metrics?.samples ?? []));
    } catch (error) { if (!signal.aborted) replace(metrics, errorBox(`Metrics are not available: ${error.message}`)); }
  };
  loadMetrics();
  const metricsTimer = setInterval(loadMetrics, 30000);
  signal.addEventListener('abort', () => clearInterval(metricsTimer));

  let lastStatus = null;
  follow(`/instances/${id}`, (answer, error) => {
    if (error) {
      replace(facts, error.status === 404 ? h('p', { class: 'muted', id: 'instance-gone' }, 'This instance does not exist (any more).') : errorBox(error));
      replace(actions);
      highlight('deleted', 'current');
      loadEvents();
      return;
    }
    instance = answer.instance;
    title.replaceChildren(instance.name, ' ', badge(instance.status));
    document.getElementById('crumb-name').textContent = instance.name;
    replace(actions, instance.cluster_id ? null : instanceActions(instance, flavors));
    replace(facts, instanceFacts(instance, flavors));
    highlight(instance.lifecycle_state, 'current');
    loadEvents();
    loadBackups();
    if (instance.status !== lastStatus) loadGuestObjects();
    lastStatus = instance.status;
  }, signal);
}
