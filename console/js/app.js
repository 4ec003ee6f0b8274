// Boot, session and hash routing.
import { loadSession, login, logout, currentSession, setUnauthorizedHandler } from './api.js';
import { forgetCatalog } from './catalog.js';
import { h, replace, errorBox } from './ui.js';
import { instancesView } from './instances.js';
import { instancePage } from './instance-page.js';
import { launchInstanceView } from './launch-instance.js';
import { clustersView } from './clusters.js';
import { clusterPage } from './cluster-page.js';
import { launchClusterView } from './launch-cluster.js';

// Lets a test tell a hash navigation from a page reload.
window.consoleBootId ??= Math.random().toString(36).slice(2);

const routes = [
  [/^#\/instances$/, instancesView, 'instances'],
  [/^#\/instances\/([^/]+)$/, instancePage, 'instances'],
  [/^#\/launch-instance$/, launchInstanceView, 'instances'],
  [/^#\/clusters$/, clustersView, 'clusters'],
  [/^#\/clusters\/([^/]+)$/, clusterPage, 'clusters'],
  [/^#\/launch-cluster$/, launchClusterView, 'clusters'],
];

const view = document.getElementById('view');
let running = null;

function showHeader() {
  const session = currentSession();
  document.getElementById('nav').hidden = !session;
  document.getElementById('who').hidden = !session;
  if (session) document.getElementById('who-name').textContent = `${session.user_name}@${session.project_name}`;
}

function loginView(container) {
  const error = h('div');
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const project = h('input', { id: 'login-project', name: 'project', placeholder: 'same as the user name' });
  const form = h('form', { class: 'login card', id: 'login-form' },
    h('h1', {}, 'Log in'),
    error,
    h('label', {}, 'User name', user),
    h('label', {}, 'Password', password),
    h('label', {}, 'Project', project),
    h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, 'Log in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(error);
    try {
      await login(user.value.trim(), password.value, project.value.trim() || user.value.trim());
      forgetCatalog();
      location.hash = sessionStorage.getItem('console-after-login') || '#/instances';
      sessionStorage.removeItem('console-after-login');
    } catch (failure) {
      replace(error, errorBox(failure, { id: 'login-error' }));
    }
  });
  replace(container, form);
  user.focus();
}

async function route() {
  running?.abort();
  running = new AbortController();
  const { signal } = running;
  const hash = location.hash || '#/instances';
  showHeader();
  if (hash === '#/login' || !currentSession()) {
    if (hash !== '#/login') {
      sessionStorage.setItem('console-after-login', hash);
      location.hash = '#/login';
      return;
    }
    if (currentSession()) { location.hash = '#/instances'; return; }
    loginView(view);
    return;
  }
  for (const [pattern, render, section] of routes) {
    const match = hash.match(pattern);
    if (!match) continue;
    for (const link of document.querySelectorAll('[data-nav]')) link.classList.toggle('active', link.dataset.nav === section);
    replace(view, h('p', { class: 'muted' }, 'Loading…'));
    try {
      await render(view, { signal, params: match.slice(1).map(decodeURIComponent) });
    } catch (error) {
      if (!signal.aborted) replace(view, errorBox(error));
    }
    return;
  }
  location.hash = '#/instances';
}

setUnauthorizedHandler(() => {
  showHeader();
  if (location.hash !== '#/login') {
    sessionStorage.setItem('console-after-login', location.hash);
    location.hash = '#/login';
  }
});

document.getElementById('logout').addEventListener('click', async () => {
  await logout().catch(() => {});
  forgetCatalog();
  sessionStorage.removeItem('console-after-login');
  if (location.hash === '#/login') route();
  else location.hash = '#/login';
});

window.addEventListener('hashchange', route);

try {
  await loadSession();
} catch (error) {
  replace(view, errorBox(error));
}
route();
