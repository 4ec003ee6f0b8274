// Small DOM helpers shared by the views.

/** h('div', {class: 'x', onclick: fn}, child, 'text', [more]) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key === 'value') element.value = value;
    else element.setAttribute(key, value === true ? '' : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

const statusClass = {
  ACTIVE: 'ok', HEALTHY: 'ok', NONE: 'ok',
  BUILD: 'busy', BUILDING: 'busy', REBOOT: 'busy', RESIZE: 'busy', BACKUP: 'busy', UPGRADE: 'busy', PROMOTE: 'busy',
  EJECT: 'busy', DETACH: 'busy', DELETING: 'busy', GROWING_CLUSTER: 'busy', SHRINKING_CLUSTER: 'busy',
  RESTARTING_CLUSTER: 'busy', UPGRADING_CLUSTER: 'busy', UPDATING_CLUSTER: 'busy', FAILING_OVER: 'busy',
  ERROR: 'bad', FAILED: 'bad', UNHEALTHY: 'bad',
  SHUTDOWN: 'off', SHUTOFF: 'off', DELETED: 'off', RESTART_REQUIRED: 'warn', BLOCKED: 'warn', PAUSED: 'warn',
};

export function badge(status) {
  if (!status) return h('span', { class: 'muted' }, '—');
  return h('span', { class: `badge ${statusClass[status] ?? (status.includes('ERROR') ? 'bad' : 'plain')}` }, status);
}

/** A cluster's status: its task, with NONE shown as ACTIVE (or ERROR when the last task failed). */
export function clusterStatus(cluster) {
  const task = cluster.task?.name ?? 'UNKNOWN';
  if (task !== 'NONE') return task;
  return cluster.fault ? 'ERROR' : 'ACTIVE';
}

/** Trove writes `created` and `updated` in UTC without a zone; JavaScript would read those as local time. */
export function parseTime(text) {
  return new Date(/T[\d:.]+$/.test(text) ? `${text}Z` : text);
}

export function formatTime(text) {
  if (!text) return '';
  const date = parseTime(text);
  return Number.isNaN(date.getTime()) ? text : date.toLocaleString();
}

export function formatBytes(value) {
  if (value === null || value === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let number = Number(value);
  let unit = 0;
  while (Math.abs(number) >= 1024 && unit < units.length - 1) { number /= 1024; unit += 1; }
  return `${number.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function flavorLabel(flavor, id) {
  if (!flavor) return id ?? '—';
  return `${flavor.name} (${flavor.ram >= 1024 ? `${flavor.ram / 1024} GB` : `${flavor.ram} MB`} RAM, ${flavor.vcpus} vCPU)`;
}

export function errorBox(error, attributes = {}) {
  return h('div', { class: 'error-box', role: 'alert', ...attributes }, error?.message ?? String(error));
}

/** The modal dialog of index.html: resolves to the button's value ('ok' or 'cancel') or the form's values. */
function openDialog({ title, body, ok = 'OK', cancel = 'Cancel', danger = false }) {
  const dialog = document.getElementById('dialog');
  const form = h('form', { method: 'dialog', class: 'dialog-form' },
    h('h2', {}, title),
    h('div', { class: 'dialog-body' }, body),
    h('div', { class: 'dialog-buttons' },
      cancel && h('button', { type: 'submit', value: 'cancel', id: 'dialog-cancel', formnovalidate: true }, cancel),
      h('button', { type: 'submit', value: 'ok', id: 'dialog-ok', class: danger ? 'danger' : 'primary' }, ok)));
  replace(dialog, form);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const values = Object.fromEntries(new FormData(form));
      resolve(dialog.returnValue === 'ok' ? { ok: true, values } : { ok: false, values: {} });
      replace(dialog);
    }, { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

export async function confirmDialog(title, text, ok = 'Delete') {
  return (await openDialog({ title, body: h('p', {}, text), ok, danger: true })).ok;
}

export async function formDialog(title, fields, ok = 'Apply') {
  const result = await openDialog({ title, body: fields, ok });
  return result.ok ? result.values : null;
}

export function messageDialog(title, body) {
  return openDialog({ title, body, ok: 'Close', cancel: null });
}

/** Shows a transient message at the top of the page. */
export function notify(text, kind = 'info') {
  const area = document.getElementById('notices');
  const note = h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  area.append(note);
  setTimeout(() => note.remove(), kind === 'error' ? 10000 : 5000);
}

export function copyButton(getText) {
  return h('button', {
    type: 'button', class: 'small',
    onclick: async (event) => {
      try {
        await navigator.clipboard.writeText(getText());
        event.target.textContent = 'Copied';
      } catch {
        event.target.textContent = 'Select and copy';
      }
      setTimeout(() => { event.target.textContent = 'Copy'; }, 1500);
    },
  }, 'Copy');
}
