// An instance's backups: take one, delete one, restore one into a new instance (Trove's /backups and
// restorePoint at create).
import { trove } from './api.js';
import { h, replace, badge, formatTime, errorBox, confirmDialog, formDialog, notify } from './ui.js';

const sizeLabel = (gigabytes) => (gigabytes == null ? '—' : `${(gigabytes * 1024).toFixed(1)} MB`);

/** The backups card of `instance`; `reload` draws it again. */
export function backupsSection(instance, backups, reload) {
  const name = h('input', { id: 'new-backup-name', placeholder: 'name', required: true });
  const description = h('input', { id: 'new-backup-description', placeholder: 'description (optional)' });
  const error = h('div');
  const form = h('form', { class: 'inline-form', id: 'new-backup' }, name, description, h('button', { type: 'submit', class: 'primary small' }, 'Back up now'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(error);
    const backup = { name: name.value.trim(), instance: instance.id };
    if (description.value.trim()) backup.description = description.value.trim();
    try {
      await trove('/backups', { method: 'POST', body: { backup } });
      notify(`Backup ${backup.name} started.`);
      reload();
    } catch (failure) { replace(error, errorBox(failure)); }
  });
  const restore = async (backup) => {
    const values = await formDialog(`Restore ${backup.name} into a new instance`, [
      h('label', {}, 'Name ', h('input', { name: 'name', required: true, value: `${instance.name}-restored` })),
      h('label', {}, 'Volume (GB) ', h('input', { name: 'size', type: 'number', min: 1, value: instance.volume?.size ?? 1 })),
    ], 'Restore');
    if (!values) return;
    try {
      const answer = await trove('/instances', { method: 'POST', body: { instance: {
        name: values.name, flavorRef: instance.flavor?.id, volume: { size: Number(values.size) }, restorePoint: { backupRef: backup.id },
      } } });
      location.hash = `#/instances/${answer.instance.id}`;
    } catch (failure) { notify(failure.message, 'error'); }
  };
  const remove = async (backup) => {
    if (!await confirmDialog('Delete backup', `Delete backup ${backup.name} and its stored objects?`)) return;
    try {
      await trove(`/backups/${backup.id}`, { method: 'DELETE' });
      reload();
    } catch (failure) { notify(failure.message, 'error'); }
  };
  return h('div', {},
    h('div', { class: 'table-scroll' }, h('table', { class: 'data compact', id: 'backups-table' },
      h('thead', {}, h('tr', {}, ['Name', 'Status', 'Size', 'Created', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, backups.length ? backups.map((b) => h('tr', { dataset: { backup: b.id } },
        h('td', { title: b.description ?? '' }, b.name), h('td', {}, badge(b.status)), h('td', {}, sizeLabel(b.size)),
        h('td', {}, formatTime(b.created)),
        h('td', { class: 'button-row' },
          b.status === 'COMPLETED' && h('button', { type: 'button', class: 'small', onclick: () => restore(b) }, 'Restore'),
          ['COMPLETED', 'FAILED', 'DELETE_FAILED'].includes(b.status) && h('button', { type: 'button', class: 'small danger', onclick: () => remove(b) }, 'Delete'))))
        : h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No backups.'))))),
    error, form);
}
