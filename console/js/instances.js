// The instances table, refreshed by the server's long poll, with the row actions.
import { trove, follow } from './api.js';
import { catalog, flavorById, sortedFlavors } from './catalog.js';
import { h, replace, badge, formatTime, flavorLabel, errorBox, confirmDialog, formDialog, messageDialog, notify, copyButton } from './ui.js';

export async function instancesView(container, { signal }) {
  const { flavors } = await catalog();
  const body = h('tbody');
  const status = h('p', { class: 'muted live' }, 'Connecting…');
  replace(container,
    h('div', { class: 'page-head' },
      h('h1', {}, 'Instances'),
      h('a', { class: 'button primary', href: '#/launch-instance', id: 'launch-instance' }, '+ Launch Instance')),
    h('div', { class: 'table-scroll' },
      h('table', { id: 'instances-table', class: 'data' },
        h('thead', {}, h('tr', {},
          ['Name', 'Datastore', 'Flavor', 'Size', 'Status', 'Operating status', 'Address', 'Created', 'Actions']
            .map((title) => h('th', {}, title)))),
        body)),
    status);

  const render = (instances) => {
    if (!instances.length) {
      replace(body, h('tr', { class: 'empty' }, h('td', { colspan: 9 }, 'No instances yet.')));
      return;
    }
    replace(body, instances.map((instance) => row(instance, flavors)));
  };

  follow('/instances/detail?limit=1000', (answer, error) => {
    if (error) { replace(status, errorBox(error)); return; }
    render(answer.instances);
    status.textContent = `Updated ${new Date().toLocaleTimeString()} · live`;
  }, signal);
}

function row(instance, flavors) {
  const flavor = flavorById(flavors, instance.flavor?.id);
  return h('tr', { dataset: { instanceId: instance.id } },
    h('td', {}, h('a', { href: `#/instances/${instance.id}`, class: 'instance-link' }, instance.name)),
    h('td', {}, `${instance.datastore?.type ?? ''} ${instance.datastore?.version ?? ''}`),
    h('td', {}, flavorLabel(flavor, instance.flavor?.id)),
    h('td', { class: 'number' }, instance.volume ? `${instance.volume.size} GB` : '—'),
    h('td', { class: 'status' }, badge(instance.status)),
    h('td', { class: 'operating-status' }, badge(instance.operating_status)),
    h('td', {}, (instance.ip ?? []).join(', ') || '—'),
    h('td', { class: 'nowrap' }, formatTime(instance.created)),
    h('td', { class: 'actions' }, instanceActions(instance, flavors)));
}

/** Restart, resize, root, delete: the same buttons on the table and on the instance page. */
export function instanceActions(instance, flavors, after = () => {}) {
  const run = async (label, work) => {
    try {
      await work();
      notify(`${label}: requested for ${instance.name}.`);
      after();
    } catch (error) {
      notify(`${label} of ${instance.name} failed: ${error.message}`, 'error');
    }
  };
  const busy = instance.status !== 'ACTIVE';
  return h('div', { class: 'button-row' },
    h('button', {
      type: 'button', class: 'small', 'data-action': 'restart', disabled: busy,
      onclick: async () => {
        if (await confirmDialog('Restart instance', `Restart ${instance.name}? Its database is unavailable meanwhile.`, 'Restart')) {
          run('Restart', () => trove(`/instances/${instance.id}/action`, { method: 'POST', body: { restart: {} } }));
        }
      },
    }, 'Restart'),
    h('button', {
      type: 'button', class: 'small', 'data-action': 'resize-flavor', disabled: busy,
      onclick: async () => {
        const values = await formDialog('Resize flavor', h('label', {}, 'New flavor',
          h('select', { name: 'flavor', id: 'resize-flavor' }, sortedFlavors(flavors).map((flavor) => h('option', {
            value: flavor.str_id ?? flavor.id, selected: String(flavor.str_id ?? flavor.id) === String(instance.flavor?.id),
          }, flavorLabel(flavor))))), 'Resize');
        if (values) run('Resize', () => trove(`/instances/${instance.id}/action`, { method: 'POST', body: { resize: { flavorRef: values.flavor } } }));
      },
    }, 'Resize'),
    h('button', {
      type: 'button', class: 'small', 'data-action': 'resize-volume', disabled: busy,
      onclick: async () => {
        const values = await formDialog('Resize volume', h('label', {}, 'New size (GB)',
          h('input', { type: 'number', name: 'size', id: 'resize-volume', min: (instance.volume?.size ?? 0) + 1, value: (instance.volume?.size ?? 0) + 1, required: true })), 'Resize');
        if (values) run('Volume resize', () => trove(`/instances/${instance.id}/action`, { method: 'POST', body: { resize: { volume: { size: Number(values.size) } } } }));
      },
    }, 'Grow volume'),
    h('button', {
      type: 'button', class: 'small', 'data-action': 'enable-root', disabled: busy,
      onclick: async () => {
        if (!await confirmDialog('Enable root', `Enable the root user of ${instance.name}? A new password is generated and shown once.`, 'Enable root')) return;
        try {
          const answer = await trove(`/instances/${instance.id}/root`, { method: 'POST', body: {} });
          await messageDialog('Root enabled', [
            h('p', {}, 'This password is shown once; it is not stored in the console.'),
            h('dl', { class: 'facts' }, h('dt', {}, 'User'), h('dd', {}, h('code', {}, answer.user.name)),
              h('dt', {}, 'Password'), h('dd', { class: 'command' }, h('code', { id: 'root-password' }, answer.user.password), copyButton(() => answer.user.password))),
          ]);
        } catch (error) {
          notify(`Enabling root on ${instance.name} failed: ${error.message}`, 'error');
        }
      },
    }, 'Root'),
    h('button', {
      type: 'button', class: 'small danger', 'data-action': 'delete',
      onclick: async () => {
        if (await confirmDialog('Delete instance', `Delete ${instance.name} and its volume? This cannot be undone.`)) {
          run('Delete', () => trove(`/instances/${instance.id}`, { method: 'DELETE' }));
        }
      },
    }, 'Delete'));
}

