/* global document, window, setInterval */
// The SPA example's script. It never handles a token: the browser sends the HttpOnly cookies
// jwtguard set, and this script only learns how long the access token lives ({"expiresIn"}).
// Same-origin requests carry `Sec-Fetch-Site: same-origin`, so the CSRF check lets them through.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { expiresAt: 0, refreshTimer: undefined, refreshes: 0, signedIn: false };

function show(response, body) {
  $('last-status').textContent = `${response.status} ${response.url.replace(window.location.origin, '')}`;
  $('output').textContent = body === undefined ? '' : JSON.stringify(body, null, 2);
  $('document-cookie').textContent = JSON.stringify(document.cookie);
}

async function call(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  const text = await response.text();
  const body = text === '' ? undefined : JSON.parse(text);
  show(response, body);
  return { response, body };
}

function signedIn(expiresIn) {
  state.signedIn = true;
  state.expiresAt = Date.now() + expiresIn * 1000;
  $('status').textContent = 'Signed in';
  $('login-section').hidden = true;
  $('session-section').hidden = false;
  tick();
  // Refresh silently before the access token expires: at three quarters of its life.
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(silentRefresh, Math.max(500, expiresIn * 750));
}

function signedOut(reason) {
  state.signedIn = false;
  clearTimeout(state.refreshTimer);
  $('status').textContent = `Signed out${reason ? ` (${reason})` : ''}`;
  $('login-section').hidden = false;
  $('session-section').hidden = true;
  $('notes').replaceChildren();
}

/** POST the refresh endpoint: the browser sends the refresh cookie (its Path is that endpoint). */
async function refresh() {
  const { response, body } = await call('/api/auth/refresh', { method: 'POST' });
  if (!response.ok) return false;
  signedIn(body.expiresIn);
  return true;
}

async function silentRefresh() {
  if (await refresh()) {
    state.refreshes += 1;
    $('refreshes').textContent = String(state.refreshes);
  } else signedOut('the session ended');
}

/** A call to the API that, on 401, refreshes once and tries again; if the refresh fails, the user logs in again. */
async function api(path, init) {
  let result = await call(path, init);
  if (result.response.status === 401 && state.signedIn && (await refresh())) result = await call(path, init);
  if (result.response.status === 401) signedOut('please log in');
  return result;
}

function renderNotes(notes) {
  $('notes').replaceChildren(...notes.map((text) => Object.assign(document.createElement('li'), { textContent: text })));
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const credentials = { username: $('username').value, password: $('password').value };
  const { response, body } = await call('/api/auth/login', { method: 'POST', body: JSON.stringify(credentials) });
  if (!response.ok) return signedOut('wrong user or password');
  signedIn(body.expiresIn);
  const notes = await api('/api/notes');
  if (notes.response.ok) renderNotes(notes.body.notes);
});

$('whoami').addEventListener('click', () => api('/api/me'));

$('note-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const { response, body } = await api('/api/notes', { method: 'POST', body: JSON.stringify({ text: $('note').value }) });
  if (response.ok) renderNotes(body.notes);
});

$('logout').addEventListener('click', async () => {
  await call('/api/auth/logout', { method: 'POST' });
  signedOut('logged out');
});

function tick() {
  $('countdown').textContent = state.signedIn ? String(Math.max(0, Math.ceil((state.expiresAt - Date.now()) / 1000))) : '–';
}
setInterval(tick, 200);

// On load: a refresh cookie means a session is still going. Refreshing tells how long the new
// access token lives, which schedules the next refresh; without one, the user logs in.
(async () => {
  if (!(await refresh())) return signedOut();
  const notes = await api('/api/notes');
  if (notes.response.ok) renderNotes(notes.body.notes);
})();
