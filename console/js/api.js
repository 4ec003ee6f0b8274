// The one place that talks to the server: the console session and the Trove v1.0 API.

export class ApiError extends Error {
  constructor(status, fault, message) {
    super(message);
    this.status = status;
    this.fault = fault;
  }
}

let session = null;
let onUnauthorized = () => {};

export const currentSession = () => session;
export function setUnauthorizedHandler(handler) { onUnauthorized = handler; }

const headers = { 'X-Cellar-Console': '1', 'Content-Type': 'application/json', Accept: 'application/json' };

async function errorOf(response) {
  let fault = 'error';
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    const [name, detail] = Object.entries(body)[0] ?? [];
    if (detail && typeof detail === 'object' && detail.message) {
      fault = name;
      message = detail.message;
    }
  } catch { /* not JSON: keep the status line */ }
  return new ApiError(response.status, fault, message);
}

async function send(url, { method = 'GET', body, extraHeaders = {}, signal } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { ...headers, ...extraHeaders },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'Cannot reach the server (it may be restarting); try again in a moment.');
  }
  if (response.status === 401 && !url.endsWith('/console/api/session')) {
    session = null;
    onUnauthorized();
  }
  return response;
}

async function json(response) {
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204 || response.status === 202) {
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }
  return response.json();
}

export async function loadSession() {
  const response = await send('/console/api/session');
  if (response.status === 401) { session = null; return null; }
  session = (await json(response)).session;
  return session;
}

export async function login(user, password, project) {
  const response = await send('/console/api/session', { method: 'POST', body: { user, password, project } });
  session = (await json(response)).session;
  return session;
}

export async function logout() {
  try { await send('/console/api/session', { method: 'DELETE' }); } finally { session = null; }
}

export async function statechart(kind) {
  const response = await send(`/console/api/statecharts/${kind}`, { extraHeaders: { Accept: 'application/xml' } });
  if (!response.ok) throw await errorOf(response);
  return response.text();
}

function troveURL(path) {
  if (!session) throw new ApiError(401, 'unauthorized', 'Not logged in.');
  return `/v1.0/${encodeURIComponent(session.project_id)}${path}`;
}

/** A Trove call: resolves to the JSON answer (null for an empty 202/204), rejects with ApiError. */
export async function trove(path, options = {}) {
  return json(await send(troveURL(path), options));
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

/**
 * Follows a resource with the server's long poll (If-None-Match + wait): calls onChange(json) with the first
 * answer and with every changed one; onChange(null, error) once for a 4xx (e.g. 404 after a delete), then stops.
 */
export async function follow(path, onChange, signal) {
  let etag = null;
  const separator = path.includes('?') ? '&' : '?';
  while (!signal.aborted) {
    try {
      const extraHeaders = etag ? { 'If-None-Match': etag } : {};
      const asked = Date.now();
      const response = await send(troveURL(`${path}${separator}wait=25`), { extraHeaders, signal });
      if (signal.aborted) return;
      if (response.status === 304) {
        // A 304 that did not wait would otherwise make this loop spin.
        if (Date.now() - asked < 500) await sleep(1000, signal);
        continue;
      }
      if (response.status >= 400 && response.status < 500) {
        onChange(null, await errorOf(response));
        return;
      }
      if (!response.ok) throw await errorOf(response);
      const body = await response.json();
      etag = response.headers.get('ETag');
      onChange(body, null);
      // Without an ETag the server cannot hold the request: fall back to asking every few seconds.
      if (!etag) await sleep(5000, signal);
    } catch (error) {
      if (signal.aborted) return;
      await sleep(2000, signal);
    }
  }
}
