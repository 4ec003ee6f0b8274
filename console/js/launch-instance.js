// The Launch Instance wizard (Horizon's tabs), with the API's validation messages shown at their fields.
import { trove } from './api.js';
import { catalog, sortedFlavors, datastoreOptions } from './catalog.js';
import { h, replace, flavorLabel, errorBox, notify } from './ui.js';

const tabs = [
  ['details', 'Details'],
  ['networking', 'Networking'],
  ['databases', 'Initialize Databases'],
  ['advanced', 'Advanced'],
];

/** An input with its label and its error slot. */
function field(label, input, help) {
  return h('div', { class: 'field' },
    h('label', { for: input.id }, label),
    input,
    help && h('small', { class: 'help' }, help),
    h('div', { class: 'field-error', id: `${input.id}-error`, 'aria-live': 'polite' }));
}

/** Maps a JSON path the API quotes ('instance.volume.size') to the input it came from. */
function inputForPath(path) {
  const rules = [
    [/^instance\.name$/, 'launch-name'],
    [/^instance\.flavorRef$/, 'launch-flavor'],
    [/^instance\.volume/, 'launch-volume'],
    [/^instance\.datastore/, 'launch-datastore'],
    [/^instance\.databases\[(\d+)\]\.character_set$/, 'launch-database-charset-$1'],
    [/^instance\.databases\[(\d+)\]\.collate$/, 'launch-database-collate-$1'],
    [/^instance\.databases(?:\[(\d+)\])?/, 'launch-database-name-$1'],
    [/^instance\.users(?:\[\d+\])?\.host$/, 'launch-user-host'],
    [/^instance\.users(?:\[\d+\])?\.password$/, 'launch-user-password'],
    [/^instance\.users/, 'launch-user-name'],
    [/^instance\.availability_zone$/, 'launch-az'],
    [/^instance\.locality$/, 'launch-locality'],
    [/^instance\.nics/, 'launch-nic'],
    [/^instance\.configuration$/, 'launch-configuration'],
    [/^instance\.replica_(of|count)$/, 'launch-replica-of'],
  ];
  for (const [pattern, id] of rules) {
    const match = path.match(pattern);
    if (match) return id.replace('$1', match[1] ?? '0');
  }
  return null;
}

/** The input a message concerns: a quoted JSON path, else an input whose value the message names. */
export function fieldOfMessage(message, form) {
  const quoted = [...message.matchAll(/'([^']*)'/g)].map((m) => m[1]);
  for (const text of quoted) {
    const id = text.startsWith('instance.') ? inputForPath(text) : null;
    if (id && form.querySelector(`#${CSS.escape(id)}`)) return id;
  }
  const inputs = [...form.querySelectorAll('input[id], select[id]')]
    .filter((input) => input.type !== 'checkbox' && input.type !== 'password' && input.value.trim() !== '');
  for (const text of quoted) {
    const input = inputs.find((candidate) => candidate.value.trim() === text);
    if (input) return input.id;
  }
  const words = new Set(message.split(/[^A-Za-z0-9_.@%:/-]+/).filter(Boolean));
  const named = inputs.find((input) => words.has(input.value.trim()) && input.tagName === 'INPUT');
  if (named?.id === 'launch-user-name' && /password/i.test(message)) return 'launch-user-password';
  return named?.id ?? null;
}

function databaseRow(index, onChange, onRemove) {
  const name = h('input', { id: `launch-database-name-${index}`, class: 'database-name', placeholder: 'name', oninput: onChange });
  return h('div', { class: 'database-row', dataset: { index } },
    field('Database name', name),
    field('Character set', h('input', { id: `launch-database-charset-${index}`, placeholder: 'optional' })),
    field('Collation', h('input', { id: `launch-database-collate-${index}`, placeholder: 'optional' })),
    h('button', { type: 'button', class: 'small', onclick: onRemove, title: 'Remove this database' }, 'Remove'));
}

export async function launchInstanceView(container) {
  const [{ datastores, flavors }, configurations, instances] = await Promise.all([
    catalog(),
    trove('/configurations').then((b) => b.configurations ?? []).catch(() => []),
    trove('/instances?limit=1000').then((b) => b.instances ?? []).catch(() => []),
  ]);
  const flavorList = sortedFlavors(flavors);

  const name = h('input', { id: 'launch-name', autocomplete: 'off', required: true });
  const datastore = h('select', { id: 'launch-datastore' }, datastoreOptions(datastores, h));
  const flavor = h('select', { id: 'launch-flavor' }, flavorList.map((f) => h('option', { value: f.str_id ?? f.id }, flavorLabel(f))));
  const volume = h('input', { id: 'launch-volume', type: 'number', min: 1, step: 1, value: 1 });
  const zone = h('input', { id: 'launch-az', placeholder: 'any' });
  const locality = h('select', { id: 'launch-locality' },
    h('option', { value: '' }, 'none'), h('option', { value: 'affinity' }, 'affinity'), h('option', { value: 'anti-affinity' }, 'anti-affinity'));
  const nic = h('input', { id: 'launch-nic', placeholder: 'network id (optional)' });
  const userName = h('input', { id: 'launch-user-name', autocomplete: 'off' });
  const userPassword = h('input', { id: 'launch-user-password', type: 'password', autocomplete: 'new-password' });
  const userHost = h('input', { id: 'launch-user-host', placeholder: '% (any host)' });
  const userGrants = h('div', { class: 'checks', id: 'launch-user-databases' });
  const configuration = h('select', { id: 'launch-configuration' });
  const replicaOf = h('select', { id: 'launch-replica-of' },
    h('option', { value: '' }, 'none'),
    instances.filter((i) => !i.replica_of).map((i) => h('option', { value: i.id }, `${i.name} (${i.datastore?.type} ${i.datastore?.version})`)));

  const databaseList = h('div', { id: 'launch-databases' });
  let databaseCount = 0;
  const databaseNames = () => [...databaseList.querySelectorAll('.database-name')].map((i) => i.value.trim()).filter(Boolean);
  // New databases are granted unless the user unticks them.
  const withheld = new Set();
  const refreshGrants = () => {
    replace(userGrants, databaseNames().length
      ? databaseNames().map((db) => h('label', { class: 'check' }, h('input', {
        type: 'checkbox', value: db, checked: !withheld.has(db),
        onchange: (event) => (event.target.checked ? withheld.delete(db) : withheld.add(db)),
      }), db))
      : h('span', { class: 'muted' }, 'Add databases above to grant them.'));
  };
  const addDatabase = () => {
    const row = databaseRow(databaseCount++, refreshGrants, () => { row.remove(); refreshGrants(); });
    databaseList.append(row);
    refreshGrants();
  };
  addDatabase();

  const refreshConfigurations = () => {
    const [type, version] = datastore.value.split('|');
    replace(configuration, h('option', { value: '' }, 'none'),
      configurations.filter((c) => !c.datastore_name || (c.datastore_name === type && (!c.datastore_version_name || c.datastore_version_name === version)))
        .map((c) => h('option', { value: c.id }, c.name)));
  };
  datastore.addEventListener('change', refreshConfigurations);
  refreshConfigurations();

  const panels = {
    details: [
      field('Instance name *', name),
      field('Datastore and version *', datastore),
      field('Flavor *', flavor, 'RAM and vCPUs of the database server'),
      field('Volume size (GB) *', volume),
      field('Availability zone', zone),
      field('Locality', locality, 'server group policy for replicas'),
    ],
    networking: [
      h('p', { class: 'muted' }, 'Optional: the network to attach. Without one the default network is used.'),
      field('Network id', nic),
    ],
    databases: [
      h('h3', {}, 'Databases'), databaseList,
      h('button', { type: 'button', class: 'small', id: 'launch-add-database', onclick: addDatabase }, '+ Add database'),
      h('h3', {}, 'Initial user'),
      h('div', { class: 'grid-3' },
        field('User name', userName), field('Password', userPassword), field('Host', userHost, 'MariaDB: where the user connects from')),
      h('div', { class: 'field' }, h('span', { class: 'label' }, 'Databases the user gets'), userGrants),
    ],
    advanced: [
      field('Configuration group', configuration),
      field('Replica of', replicaOf, 'creates a replica of an existing PostgreSQL instance'),
    ],
  };

  const tabBar = h('div', { class: 'tabs', role: 'tablist' });
  const tabPanels = {};
  const tabErrors = {};
  let openTab = 'details';
  const show = (key) => {
    openTab = key;
    for (const button of tabBar.children) button.setAttribute('aria-selected', String(button.dataset.tab === key));
    for (const [panelKey, panel] of Object.entries(tabPanels)) panel.hidden = panelKey !== key;
  };
  for (const [key, label] of tabs) {
    tabBar.append(h('button', { type: 'button', role: 'tab', dataset: { tab: key }, onclick: () => show(key) }, label));
    tabErrors[key] = h('div', { class: 'tab-error' });
    tabPanels[key] = h('div', { class: 'tab-panel', role: 'tabpanel', dataset: { panel: key } }, tabErrors[key], panels[key]);
  }

  const submit = h('button', { type: 'submit', id: 'launch-submit', class: 'primary' }, 'Launch');
  const form = h('form', { id: 'launch-form', class: 'card wizard', novalidate: true },
    tabBar, Object.values(tabPanels),
    h('div', { class: 'wizard-buttons' }, h('a', { href: '#/instances', class: 'button' }, 'Cancel'), submit));

  const clearErrors = () => {
    for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    for (const box of Object.values(tabErrors)) replace(box);
  };
  const showError = (inputId, message) => {
    const input = inputId && form.querySelector(`#${CSS.escape(inputId)}`);
    if (!input) {
      replace(tabErrors[openTab], errorBox(message, { id: 'launch-error' }));
      return;
    }
    const panel = input.closest('[data-panel]');
    show(panel.dataset.panel);
    input.setAttribute('aria-invalid', 'true');
    form.querySelector(`#${CSS.escape(inputId)}-error`).textContent = message;
    input.focus();
  };

  /** The client-side checks (the API makes the same and more). */
  const problems = () => {
    const found = [];
    if (!name.value.trim()) found.push(['launch-name', 'Give the instance a name.']);
    if (!flavor.value) found.push(['launch-flavor', 'Choose a flavor.']);
    if (!/^\d+$/.test(volume.value) || Number(volume.value) < 1) found.push(['launch-volume', 'The volume size is a whole number of GB, at least 1.']);
    const names = databaseNames();
    if (new Set(names).size !== names.length) found.push(['launch-database-name-0', 'A database is listed twice.']);
    if (userName.value.trim() && !userPassword.value) found.push(['launch-user-password', 'The user needs a password.']);
    if (!userName.value.trim() && (userPassword.value || userHost.value.trim())) found.push(['launch-user-name', 'Give the user a name.']);
    return found;
  };

  const body = () => {
    const [type, version] = datastore.value.split('|');
    const request = {
      name: name.value.trim(),
      flavorRef: flavor.value,
      volume: { size: Number(volume.value) },
      datastore: { type, version },
      databases: [...databaseList.querySelectorAll('.database-row')].map((row) => {
        const index = row.dataset.index;
        const value = (what) => form.querySelector(`#launch-database-${what}-${index}`).value.trim();
        const database = { name: value('name') };
        if (value('charset')) database.character_set = value('charset');
        if (value('collate')) database.collate = value('collate');
        return database;
      }).filter((database) => database.name),
      users: [],
    };
    if (userName.value.trim()) {
      const user = { name: userName.value.trim(), password: userPassword.value,
        databases: [...userGrants.querySelectorAll('input:checked')].map((box) => ({ name: box.value })) };
      if (userHost.value.trim()) user.host = userHost.value.trim();
      request.users.push(user);
    }
    if (zone.value.trim()) request.availability_zone = zone.value.trim();
    if (locality.value) request.locality = locality.value;
    if (nic.value.trim()) request.nics = [{ 'net-id': nic.value.trim() }];
    if (configuration.value) request.configuration = configuration.value;
    if (replicaOf.value) request.replica_of = replicaOf.value;
    return { instance: request };
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    const found = problems();
    if (found.length) {
      found.reverse().forEach(([id, message]) => showError(id, message));
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Launching…';
    try {
      const answer = await trove('/instances', { method: 'POST', body: body() });
      notify(`Instance ${answer.instance?.name ?? ''} is being built.`);
      location.hash = '#/instances';
    } catch (error) {
      showError(error.status ? fieldOfMessage(error.message, form) : null, error.message);
    } finally {
      submit.disabled = false;
      submit.textContent = 'Launch';
    }
  });

  replace(container,
    h('p', { class: 'crumbs' }, h('a', { href: '#/instances' }, 'Instances'), ' › Launch'),
    h('h1', {}, 'Launch Instance'),
    form);
  show('details');
  name.focus();
}
