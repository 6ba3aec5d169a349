// The console's only way to the server: the Placement API, the Bare Metal
// API under /baremetal and allot's extensions on the same origin, with the
// user's token.

const TOKEN_KEY = 'allot.console.token';

// BASE is the API root: the directory above the console's /ui/, so that
// the console works behind a proxy that serves the API under a prefix.
export const BASE = new URL('../', document.baseURI).pathname.replace(/\/$/, '');
export const MICROVERSION = '1.39';

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(t) { sessionStorage.setItem(TOKEN_KEY, t); }
export function clearToken() { sessionStorage.removeItem(TOKEN_KEY); }

// APIError is an answer other than 2xx, with the API's own detail.
export class APIError extends Error {
  constructor(status, detail, challenge) {
    super(detail);
    this.status = status;
    this.challenge = challenge || '';
  }
}

// detailOf reads an API's error envelope: Placement's ({"errors":
// [{"title", "detail"}]}) or Ironic's ({"error_message": "<JSON with
// faultstring or description>"}).
function detailOf(status, text) {
  try {
    const doc = JSON.parse(text);
    if (doc.error_message) {
      try {
        const inner = JSON.parse(doc.error_message);
        return `${status}: ${inner.faultstring || inner.description || inner.title || doc.error_message}`;
      } catch (_) {
        return `${status}: ${doc.error_message}`;
      }
    }
    const e = (doc.errors || [])[0];
    if (e) return `${e.title || status}: ${e.detail || ''}`.trim();
  } catch (_) { /* not JSON */ }
  return `${status}: ${text.slice(0, 300)}`;
}

// request sends one request to url with the user's token and the given
// headers, and returns the decoded JSON (null for no content); an answer
// other than 2xx is an APIError with the API's own detail.
export async function request(method, url, headers, body) {
  headers = {'Accept': 'application/json', ...headers};
  if (token()) headers['X-Auth-Token'] = token();
  const init = {method, headers, credentials: 'omit'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(url, init);
  const text = await resp.text();
  if (!resp.ok) throw new APIError(resp.status, detailOf(resp.status, text), resp.headers.get('WWW-Authenticate'));
  return text ? JSON.parse(text) : null;
}

// call sends one request to the Placement API; path is relative to the
// site root ("/usages").
export function call(method, path, body, version = MICROVERSION) {
  return request(method, BASE + path, version ? {'OpenStack-API-Version': 'placement ' + version} : {}, body);
}

export const get = (path, version) => call('GET', path, undefined, version);

// names maps provider uuids to names, asking for at most limit of them
// (the rest keep their uuid), a few at a time.
export async function names(uuids, limit = 60) {
  const out = new Map();
  const todo = [...new Set(uuids)].slice(0, limit);
  for (let i = 0; i < todo.length; i += 8) {
    await Promise.all(todo.slice(i, i + 8).map(async (u) => {
      try { out.set(u, (await get('/resource_providers/' + u)).name); } catch (_) { /* deleted meanwhile */ }
    }));
  }
  return out;
}

// uuid4 is a random UUID (crypto.randomUUID needs a secure context; an
// operator may open the console over plain HTTP on a private network).
export function uuid4() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
