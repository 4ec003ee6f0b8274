// Draws an SCXML lifecycle statechart as nested boxes (Harel style) and highlights a state with its ancestors.
import { statechart } from './api.js';
import { h, replace } from './ui.js';

const CELLAR = 'urn:cellar:statechart';
const cache = new Map();

function parse(text) {
  const document = new DOMParser().parseFromString(text, 'application/xml');
  const root = document.documentElement;
  if (!root || root.localName !== 'scxml') throw new Error('The statechart is not SCXML.');
  const build = (element, parent) => {
    const node = {
      id: element.getAttribute('id') ?? element.getAttribute('name') ?? '',
      final: element.localName === 'final',
      status: element.getAttributeNS(CELLAR, 'status') || null,
      initial: element.getAttribute('initial'),
      parent,
      children: [],
      transitions: [],
    };
    for (const child of element.children) {
      if (child.localName === 'state' || child.localName === 'final') node.children.push(build(child, node));
      else if (child.localName === 'transition') {
        node.transitions.push({ event: child.getAttribute('event') ?? '', target: child.getAttribute('target') ?? '', cond: child.getAttribute('cond') });
      }
    }
    // Without initial=, SCXML starts in the first child.
    if (!node.initial && node.children.length) node.initial = node.children[0].id;
    return node;
  };
  return build(root, null);
}

function transitionList(node) {
  const loops = node.transitions.filter((t) => t.target === node.id && !t.cond).map((t) => t.event);
  const others = node.transitions.filter((t) => !(t.target === node.id && !t.cond));
  if (!loops.length && !others.length) return null;
  return h('ul', { class: 'sc-transitions' },
    others.map((t) => h('li', {},
      h('span', { class: 'sc-event' }, t.event), ' → ', h('span', { class: 'sc-target' }, t.target),
      t.cond && h('span', { class: 'sc-cond' }, ` [${t.cond}]`))),
    loops.length > 0 && h('li', { class: 'sc-loops', title: 'events that stay in this state' }, '↺ ', loops.join(', ')));
}

function box(node, isInitial) {
  const compound = node.children.length > 0;
  return h('div', {
    class: `sc-state${compound ? ' compound' : ''}${node.final ? ' final' : ''}`,
    id: `state-${node.id}`,
    dataset: { state: node.id },
  },
  h('div', { class: 'sc-head' },
    isInitial && h('span', { class: 'sc-initial', title: 'initial state' }, '●→'),
    h('span', { class: 'sc-name' }, node.final ? `${node.id} (final)` : node.id),
    node.status && h('span', { class: 'sc-status' }, node.status)),
  transitionList(node),
  compound && h('div', { class: 'sc-children' }, node.children.map((child) => box(child, child.id === node.initial))));
}

/** Draws the `instance` or `cluster` chart into container; returns highlight(stateId, className). */
export async function drawStatechart(container, kind) {
  if (!cache.has(kind)) cache.set(kind, statechart(kind).then(parse).catch((error) => { cache.delete(kind); throw error; }));
  const root = await cache.get(kind);
  const legend = h('p', { class: 'sc-legend muted' },
    h('span', { class: 'swatch swatch-current' }), ' current state ', h('span', { class: 'swatch swatch-as-of' }), ' state at the chosen event ',
    '· ●→ initial · double border: final');
  replace(container, legend, h('div', { class: 'sc-children sc-top' }, root.children.map((child) => box(child, child.id === root.initial))));
  return (stateId, className = 'current') => {
    for (const element of container.querySelectorAll(`.${className}`)) element.classList.remove(className);
    let element = stateId ? container.querySelector(`[data-state="${CSS.escape(stateId)}"]`) : null;
    while (element && element !== container) {
      if (element.classList.contains('sc-state')) element.classList.add(className);
      element = element.parentElement;
    }
  };
}
