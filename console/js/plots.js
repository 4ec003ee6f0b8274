// Small SVG line charts of an instance's metrics (no chart library).
import { h, formatBytes, parseTime } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attributes = {}, text) => {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  return element;
};

const number = (value) => (Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2).replace(/\.?0+$/, ''));

export const series = [
  { key: 'connections', title: 'Connections', format: (v) => String(Math.round(v)) },
  { key: 'transactions_per_second', title: 'Transactions / s', format: number },
  { key: 'replication_lag_bytes', title: 'Replication lag', format: formatBytes },
  { key: 'volume_used_bytes', title: 'Disk used', format: formatBytes },
];

/** One chart: samples [{time, [key]: number|null}], oldest first. */
export function lineChart({ key, title, format }, samples, { width = 320, height = 150 } = {}) {
  const points = samples
    .filter((sample) => sample[key] !== null && sample[key] !== undefined)
    .map((sample) => ({ t: parseTime(sample.time).getTime(), v: Number(sample[key]) }));
  const latest = points.at(-1);
  const figure = h('figure', { class: 'plot', dataset: { metric: key } },
    h('figcaption', {}, h('span', {}, title), h('strong', { class: 'latest' }, latest ? format(latest.v) : '—')));
  if (points.length === 0) {
    figure.append(h('p', { class: 'muted plot-empty' }, 'No samples.'));
    return figure;
  }
  const margin = { left: 56, right: 8, top: 8, bottom: 22 };
  const [t0, t1] = [points[0].t, Math.max(points.at(-1).t, points[0].t + 1)];
  const max = Math.max(...points.map((p) => p.v), 0);
  const min = Math.min(...points.map((p) => p.v), 0);
  const top = max === min ? min + 1 : max;
  const x = (t) => margin.left + ((t - t0) / (t1 - t0)) * (width - margin.left - margin.right);
  const y = (v) => height - margin.bottom - ((v - min) / (top - min)) * (height - margin.top - margin.bottom);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${title} over the last hour` });
  const labels = new Set();
  for (const value of [min, (min + top) / 2, top]) {
    chart.append(svg('line', { x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value), class: 'grid' }));
    // Small ranges round to the same text (0 B, 1 B, 1 B): label each text once.
    if (labels.has(format(value))) continue;
    labels.add(format(value));
    chart.append(svg('text', { x: margin.left - 4, y: y(value) + 4, 'text-anchor': 'end', class: 'axis' }, format(value)));
  }
  const clock = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  chart.append(svg('text', { x: margin.left, y: height - 6, class: 'axis' }, clock(t0)));
  if (clock(t1) !== clock(t0)) chart.append(svg('text', { x: width - margin.right, y: height - 6, 'text-anchor': 'end', class: 'axis' }, clock(t1)));
  const path = points.map((p, index) => `${index ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  chart.append(svg('path', { d: path, class: 'line' }));
  chart.append(svg('circle', { cx: x(latest.t), cy: y(latest.v), r: 3, class: 'dot' }));
  figure.append(chart);
  return figure;
}

export function plots(samples) {
  if (!samples.length) return h('p', { class: 'muted', id: 'plots-empty' }, 'No metrics yet: the guest reports every few seconds once the instance is running.');
  return h('div', { class: 'plots' }, series.map((one) => lineChart(one, samples)));
}
