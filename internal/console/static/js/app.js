// The console's frame: sign-in, what the caller may do (asked of the
// server), and the pages behind #/name.
import {get, call, token, setToken, clearToken, APIError, BASE} from './api.js';
import {h} from './dom.js';
import * as capacity from './capacity.js';
import * as request from './request.js';
import * as explorer from './explorer.js';
import * as baremetal from './baremetal.js';

const pages = {capacity, request, explorer, baremetal};

// POLL_MS is how often a visible page asks whether the cloud changed
// (GET /allot/v1/revision, one number).
const POLL_MS = 3000;
// shown is the store revision the current page was drawn at.
let shown = null;
const $ = (id) => document.getElementById(id);

// ctx is what a page may use: the caller's rules (from GET
// /allot/v1/permissions, decided by the server's policy enforcer) and the
// status line.
const ctx = {
  rules: {},
  identity: {},
  can(rule) { return this.rules[rule] === true; },
  status(msg, error) {
    $('status').textContent = msg || '';
    $('status').className = error ? 'error' : '';
  },
};

// EXPIRES_KEY keeps, beside the token, when Keystone said it expires
// (password sign-ins only).
const EXPIRES_KEY = 'allot.console.expires';

async function showLogin(why, error) {
  $('page').replaceChildren();
  $('who').replaceChildren();
  delete document.body.dataset.ready;
  $('login').hidden = false;
  $('login-why').textContent = why || 'The console calls the Placement API with your token.';
  $('login-why').className = error ? 'error' : '';
  // Ask the server which authentication it uses: a Keystone challenge
  // means a real token, or a password that allot exchanges for one;
  // noauth2 takes "admin".
  // The field is cleared now and filled in only if it is still empty
  // when the answer comes: a token typed meanwhile is never overwritten.
  let keystone = false;
  $('token').value = '';
  try {
    await fetch(BASE + '/allot/v1/permissions', {headers: {'Accept': 'application/json'}}).then((r) => {
      keystone = (r.headers.get('WWW-Authenticate') || '').startsWith('Keystone');
      if (!keystone && $('token').value === '') $('token').value = 'admin';
      $('token').placeholder = keystone ? 'a Keystone token (openstack token issue -f value -c id)' : 'admin';
    });
  } catch (_) { /* the form stays empty */ }
  $('password-form').hidden = !keystone;
  $('login-or').hidden = !keystone;
  $('token').required = !keystone;
  document.body.dataset.login = keystone ? 'keystone' : 'token';
  (keystone ? $('ks-user') : $('token')).focus();
}

// signInWithPassword asks allot to exchange the form's credentials for a
// Keystone token (POST /allot/v1/tokens; the page cannot call Keystone,
// another origin) and starts with it. Keystone's refusal stays on the form.
async function signInWithPassword() {
  const system = $('ks-scope').value === 'system';
  const domain = $('ks-domain').value.trim() || 'Default';
  const body = {username: $('ks-user').value.trim(), password: $('ks-password').value, user_domain_name: domain};
  if (system) {
    body.system_scope = 'all';
  } else {
    body.project_name = $('ks-project').value.trim();
    body.project_domain_name = domain;
    if (!body.project_name) return showLogin('Name the project to sign in to, or choose the system scope.', true);
  }
  $('ks-submit').disabled = true;
  try {
    const ans = await call('POST', '/allot/v1/tokens', body, '');
    $('ks-password').value = '';
    setToken(ans.token.id);
    sessionStorage.setItem(EXPIRES_KEY, ans.token.expires_at);
    await start();
  } catch (e) {
    $('ks-password').value = '';
    showLogin(e instanceof APIError ? 'Signing in failed: ' + e.message : 'Signing in failed: ' + e, true);
  } finally {
    $('ks-submit').disabled = false;
  }
}

// signedOut returns to the sign-in form when the server stopped accepting
// the token (a 401 after signing in: it expired or was revoked).
function signedOut(e) {
  clearToken();
  sessionStorage.removeItem(EXPIRES_KEY);
  return showLogin('Your session has ended: the server no longer accepts the token (it expired or was revoked). Sign in again. ' + e.message, true);
}

async function start() {
  if (!token()) return showLogin();
  try {
    const p = await get('/allot/v1/permissions', '');
    ctx.rules = p.rules;
    ctx.identity = p.identity;
  } catch (e) {
    if (e instanceof APIError && e.status === 401) {
      clearToken();
      return showLogin('The server did not accept the token: ' + e.message, true);
    }
    if (e instanceof APIError && e.status === 403) {
      return showLogin('This token may not list resource providers, which the console needs: ' + e.message, true);
    }
    throw e;
  }
  $('login').hidden = true;
  const id = ctx.identity;
  const writes = Object.entries(ctx.rules).some(([r, ok]) => ok && !/:(list|show|usages)$/.test(r));
  const expires = sessionStorage.getItem(EXPIRES_KEY);
  const until = expires ? ` · until ${new Date(expires).toLocaleTimeString()}` : '';
  $('who').replaceChildren(
    h('span', {}, `${id.user_id || 'anonymous'}${id.project_id ? ' / ' + id.project_id : ''}${id.system_scope ? ' / system' : ''}${id.roles && id.roles.length ? ' (' + id.roles.join(', ') + ')' : ''}${writes ? '' : ' · read-only'}${until}`),
    signOut());
  route();
}

function signOut() {
  const b = h('button', {type: 'button', id: 'sign-out'}, 'Sign out');
  b.addEventListener('click', () => { clearToken(); sessionStorage.removeItem(EXPIRES_KEY); showLogin('Signed out.'); });
  return b;
}

async function route() {
  if (!token()) return;
  const name = (location.hash.replace(/^#\/?/, '').split('?')[0]) || 'capacity';
  const page = pages[name];
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('current', a.dataset.page === name));
  delete document.body.dataset.ready;
  ctx.status('');
  const root = h('div', {id: 'page-' + name});
  $('page').replaceChildren(root);
  if (!page) {
    ctx.status(`There is no page "${name}": choose one above.`, true);
    return;
  }
  try {
    shown = (await get('/allot/v1/revision', '')).revision;
    await page.render(root, ctx);
  } catch (e) {
    if (e instanceof APIError && e.status === 401) return signedOut(e);
    if (root.isConnected) ctx.status(e.message, true);
  }
  // A page replaced meanwhile (another route, a live redraw) is not ready.
  if (root.isConnected) document.body.dataset.ready = name;
}

// poll keeps the page live: when the store's revision moved, a page that
// only shows the cloud (capacity) is drawn again; a page that can redraw
// what it shows in place (refresh: the explorer's open tree) does; a page
// with a form the user fills says that its answer may be out of date.
async function poll() {
  const name = document.body.dataset.ready;
  if (document.visibilityState !== 'visible' || !token() || !name || shown === null) return;
  let now;
  try {
    now = (await get('/allot/v1/revision', '')).revision;
  } catch (e) {
    if (e instanceof APIError && e.status === 401 && token()) signedOut(e);
    return; // the next poll tries again; a real failure shows on the next action
  }
  if (now === shown || document.body.dataset.ready !== name) return;
  if (pages[name] && pages[name].live) {
    route();
  } else if (pages[name] && pages[name].refresh) {
    shown = now;
    pages[name].refresh().catch((e) => ctx.status(e.message, true));
  } else {
    shown = now;
    ctx.status(`The cloud has changed since this page was drawn (store revision ${now}): search again for current answers.`);
  }
}

window.addEventListener('hashchange', route);
setInterval(poll, POLL_MS);
document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!$('token').value.trim()) return showLogin('Paste a token, or sign in with a user name and password above.', true);
    sessionStorage.removeItem(EXPIRES_KEY);
    setToken($('token').value.trim());
    start();
  });
  $('password-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    signInWithPassword();
  });
  $('ks-scope').addEventListener('change', () => { $('ks-project').disabled = $('ks-scope').value === 'system'; });
  start().catch((e) => ctx.status(e.message, true));
});
