// The event history of an instance or cluster (its own events and its sagas'), with a time-travel slider.
import { trove } from './api.js';
import { h, replace, formatTime, errorBox } from './ui.js';

const isSaga = (event) => event.stream.startsWith('saga-');
const short = (text, length = 8) => (text && text.length > length + 10 ? `${text.slice(0, text.indexOf('-') + 1 + length)}…` : text ?? '');

/**
 * collection: 'instances' or 'clusters'. renderAsOf(resource) draws the past resource; onAsOf(state) gets its
 * lifecycle_state (null when it did not exist then). Returns { element, update(events) }.
 */
export function timeline({ collection, id, renderAsOf, onAsOf }) {
  let events = [];
  let own = [];
  let newestFirst = true;
  let followLatest = true;
  let asked = 0;
  let timer = null;

  const slider = h('input', { type: 'range', id: 'time-travel', min: 0, max: 0, value: 0, step: 1, 'aria-label': 'Time travel: event' });
  const label = h('span', { id: 'time-travel-label', class: 'muted' });
  const asOf = h('div', { id: 'as-of-view', class: 'as-of' }, h('p', { class: 'muted' }, 'Move the slider to see this resource as it was after an event.'));
  const body = h('tbody');
  const orderButton = h('button', { type: 'button', class: 'small', id: 'timeline-order' }, 'Oldest first');
  const now = h('button', { type: 'button', class: 'small', id: 'time-travel-now' }, 'Now');

  const describe = (event) => `#${event.position} ${event.type} · ${formatTime(event.time)}`;

  const renderRows = () => {
    const shown = newestFirst ? [...events].reverse() : events;
    const selected = followLatest ? null : own[Number(slider.value)]?.position;
    replace(body, shown.length ? shown.map((event) => h('tr', {
      class: `${isSaga(event) ? 'saga' : 'own'}${event.position === selected ? ' selected' : ''}`,
      dataset: { position: event.position, type: event.type },
    },
    h('td', { class: 'nowrap' }, formatTime(event.time)),
    h('td', { class: 'event-type' }, event.type),
    h('td', {}, event.actor ?? ''),
    h('td', { title: event.request_id ?? '' }, h('code', {}, short(event.request_id, 8))),
    h('td', { class: 'saga-step' }, isSaga(event) ? (event.data?.step ?? '') : ''),
    h('td', { title: event.stream }, short(event.stream, 8)),
    h('td', { class: 'number' }, event.position))) : h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No events.')));
  };

  const travel = async () => {
    const event = own[Number(slider.value)];
    if (!event) return;
    const mine = ++asked;
    label.textContent = describe(event);
    renderRows();
    try {
      const answer = await trove(`/${collection}/${id}?as_of=${event.position}`);
      if (mine !== asked) return;
      const resource = answer.instance ?? answer.cluster;
      replace(asOf, h('p', { class: 'as-of-title' }, `As it was after event ${describe(event)}:`), renderAsOf(resource));
      onAsOf(resource.lifecycle_state ?? null);
    } catch (error) {
      if (mine !== asked) return;
      replace(asOf, error.status === 404 ? h('p', { class: 'muted' }, `It did not exist after event #${event.position}.`) : errorBox(error));
      onAsOf(null);
    }
  };

  slider.addEventListener('input', () => {
    followLatest = false;
    clearTimeout(timer);
    timer = setTimeout(travel, 120);
  });
  now.addEventListener('click', () => {
    followLatest = true;
    slider.value = slider.max;
    label.textContent = own.length ? `latest: ${describe(own.at(-1))}` : '';
    replace(asOf, h('p', { class: 'muted' }, 'Showing the present; move the slider to look back.'));
    onAsOf(null);
    renderRows();
  });
  orderButton.addEventListener('click', () => {
    newestFirst = !newestFirst;
    orderButton.textContent = newestFirst ? 'Oldest first' : 'Newest first';
    renderRows();
  });

  const element = h('section', { class: 'history' },
    h('div', { class: 'time-travel' },
      h('label', { for: 'time-travel' }, 'Time travel'), slider, now, label),
    asOf,
    h('div', { class: 'section-tools' }, h('span', { class: 'muted' }, 'Events of this resource and of its sagas'), orderButton),
    h('div', { class: 'table-scroll' }, h('table', { id: 'timeline', class: 'data compact' },
      h('thead', {}, h('tr', {}, ['Time', 'Event', 'Actor', 'Request', 'Saga step', 'Stream', '#'].map((t) => h('th', {}, t)))),
      body)));

  const update = (list) => {
    events = [...list].sort((a, b) => a.position - b.position);
    own = events.filter((event) => !isSaga(event));
    slider.max = Math.max(own.length - 1, 0);
    slider.disabled = own.length === 0;
    if (followLatest) {
      slider.value = slider.max;
      label.textContent = own.length ? `latest: ${describe(own.at(-1))}` : '';
    }
    renderRows();
  };
  return { element, update };
}
