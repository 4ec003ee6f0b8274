// The Launch Cluster form: members' flavor and volume, and for PostgreSQL (active-passive) their weights.
import { trove } from './api.js';
import { catalog, sortedFlavors, datastoreOptions, isPostgres } from './catalog.js';
import { h, replace, flavorLabel, errorBox, notify } from './ui.js';

const defaultWeights = [100, 50, 10];

export async function launchClusterView(container) {
  const { datastores, flavors } = await catalog();
  const name = h('input', { id: 'cluster-name', autocomplete: 'off', required: true });
  const datastore = h('select', { id: 'cluster-datastore' }, datastoreOptions(datastores, h));
  const flavor = h('select', { id: 'cluster-flavor' }, sortedFlavors(flavors).map((f) => h('option', { value: f.str_id ?? f.id }, flavorLabel(f))));
  const volume = h('input', { id: 'cluster-volume', type: 'number', min: 1, value: 1 });
  const size = h('input', { id: 'cluster-size', type: 'number', min: 1, max: 9, value: 3 });
  const algorithm = h('select', { id: 'cluster-algorithm' },
    h('option', { value: '' }, 'default'), h('option', { value: 'roundrobin' }, 'round robin'), h('option', { value: 'leastconn' }, 'least connections'));
  const synchronous = h('input', { id: 'cluster-synchronous', type: 'checkbox' });
  const weights = h('div', { id: 'cluster-weights', class: 'weights' });
  const activePassive = h('fieldset', { class: 'active-passive' },
    h('legend', {}, 'Primary and replicas'),
    h('p', { class: 'muted' }, 'The member with the highest weight starts as the primary and is preferred at failover; weight 0 is never promoted.'),
    weights,
    h('label', { class: 'check' }, synchronous, 'Synchronous replication (commits wait for a replica)'));
  const error = h('div', { id: 'cluster-error-box' });

  const refresh = () => {
    const postgres = isPostgres(datastore.value.split('|')[0]);
    activePassive.hidden = !postgres;
    const count = Math.max(0, Math.min(Number(size.value) || 0, 9));
    const kept = [...weights.querySelectorAll('input')].map((input) => input.value);
    replace(weights, Array.from({ length: count }, (_, index) => h('label', {}, `Member ${index + 1} weight `,
      h('input', { id: `cluster-weight-${index}`, type: 'number', min: 0, max: 1000, value: kept[index] ?? defaultWeights[index] ?? 1 }))));
  };
  datastore.addEventListener('change', refresh);
  size.addEventListener('input', refresh);
  refresh();

  const submit = h('button', { type: 'submit', class: 'primary', id: 'cluster-submit' }, 'Launch cluster');
  const field = (label, input, help) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input,
    help && h('small', { class: 'help' }, help));
  const form = h('form', { class: 'card wizard', id: 'cluster-form', novalidate: true },
    error,
    h('div', { class: 'grid-2' },
      field('Cluster name *', name),
      field('Datastore and version *', datastore, 'PostgreSQL: primary with replicas; MariaDB: Galera, every member writes'),
      field('Flavor of every member *', flavor),
      field('Volume size of every member (GB) *', volume),
      field('Number of members *', size),
      field('Balancer algorithm', algorithm)),
    activePassive,
    h('div', { class: 'wizard-buttons' }, h('a', { href: '#/clusters', class: 'button' }, 'Cancel'), submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(error);
    const [type, version] = datastore.value.split('|');
    const postgres = isPostgres(type);
    const count = Number(size.value);
    if (!name.value.trim()) { replace(error, errorBox('Give the cluster a name.')); return; }
    if (!Number.isInteger(count) || count < 1) { replace(error, errorBox('The number of members is a whole number.')); return; }
    if (!/^\d+$/.test(volume.value) || Number(volume.value) < 1) { replace(error, errorBox('The volume size is a whole number of GB, at least 1.')); return; }
    const instances = Array.from({ length: count }, (_, index) => {
      const member = { flavorRef: flavor.value, volume: { size: Number(volume.value) } };
      if (postgres) member.weight = Number(form.querySelector(`#cluster-weight-${index}`).value);
      return member;
    });
    const extended = {};
    if (algorithm.value) extended.algorithm = algorithm.value;
    if (postgres) extended.synchronous = synchronous.checked ? 'true' : 'false';
    const cluster = { name: name.value.trim(), datastore: { type, version }, instances };
    if (Object.keys(extended).length) cluster.extended_properties = extended;
    submit.disabled = true;
    try {
      const answer = await trove('/clusters', { method: 'POST', body: { cluster } });
      notify(`Cluster ${answer.cluster?.name ?? cluster.name} is being built.`);
      location.hash = '#/clusters';
    } catch (failure) {
      replace(error, errorBox(failure, { id: 'cluster-error' }));
    } finally {
      submit.disabled = false;
    }
  });

  replace(container,
    h('p', { class: 'crumbs' }, h('a', { href: '#/clusters' }, 'Clusters'), ' › Launch'),
    h('h1', {}, 'Launch Cluster'),
    form);
  name.focus();
}
