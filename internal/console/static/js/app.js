// The console's frame: sign-in, what the caller may do (asked of the
// server), and the pages behind #/name.
import {get, token, setToken, clearToken, APIError, BASE} from './api.js';
import {h} from './dom.js';
import * as capacity from './capacity.js';
import * as request from './request.js';
import * as explorer from './explorer.js';

const pages = {capacity, request, explorer};

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

async function showLogin(why) {
  $('page').replaceChildren();
  $('who').replaceChildren();
  $('login').hidden = false;
  $('login-why').textContent = why || 'The console calls the Placement API with your token.';
  // Ask the server which authentication it uses: a Keystone challenge
  // means a real token; noauth2 takes "admin".
  try {
    await fetch(BASE + '/allot/v1/permissions', {headers: {'Accept': 'application/json'}}).then((r) => {
      const keystone = (r.headers.get('WWW-Authenticate') || '').startsWith('Keystone');
      $('token').value = keystone ? '' : 'admin';
      $('token').placeholder = keystone ? 'a Keystone token (openstack token issue -f value -c id)' : 'admin';
    });
  } catch (_) { /* the form stays empty */ }
  $('token').focus();
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
      return showLogin('The server did not accept the token: ' + e.message);
    }
    if (e instanceof APIError && e.status === 403) {
      return showLogin('This token may not list resource providers, which the console needs: ' + e.message);
    }
    throw e;
  }
  $('login').hidden = true;
  const id = ctx.identity;
  const writes = Object.entries(ctx.rules).some(([r, ok]) => ok && !/:(list|show|usages)$/.test(r));
  $('who').replaceChildren(
    h('span', {}, `${id.user_id || 'anonymous'}${id.project_id ? ' / ' + id.project_id : ''}${id.roles && id.roles.length ? ' (' + id.roles.join(', ') + ')' : ''}${writes ? '' : ' · read-only'}`),
    signOut());
  route();
}

function signOut() {
  const b = h('button', {type: 'button', id: 'sign-out'}, 'Sign out');
  b.addEventListener('click', () => { clearToken(); showLogin('Signed out.'); });
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
    ctx.status(e.message, true);
  }
  document.body.dataset.ready = name;
}

// poll keeps the page live: when the store's revision moved, a page that
// only shows the cloud (capacity) is drawn again; a page with a form the
// user fills says that its answer may be out of date.
async function poll() {
  const name = document.body.dataset.ready;
  if (document.visibilityState !== 'visible' || !token() || !name || shown === null) return;
  let now;
  try {
    now = (await get('/allot/v1/revision', '')).revision;
  } catch (_) {
    return; // the next poll tries again; a real failure shows on the next action
  }
  if (now === shown || document.body.dataset.ready !== name) return;
  if (pages[name] && pages[name].live) {
    route();
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
    setToken($('token').value.trim());
    start();
  });
  start().catch((e) => ctx.status(e.message, true));
});
