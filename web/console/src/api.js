// The API client: every call carries the token from sessionStorage in the
// Authorization header (never in a URL). A route the server does not have
// (an older gsocd) answers {missing: true} instead of throwing, so each view
// shows what it can.
const TOKEN_KEY = 'gsoc.token';

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}
export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// -> {ok, status, data, missing}; throws ApiError on other failures.
export async function api(path, { method = 'GET', body, token = getToken(), signal } = {}) {
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    signal,
  });
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: text };
    }
  }
  if (response.status === 401) {
    onUnauthorized();
    throw new ApiError(401, 'the token was refused');
  }
  if (response.status === 404 && data && data.error === 'no such route') {
    return { ok: false, status: 404, data, missing: true };
  }
  if (response.status === 405 && method !== 'GET') {
    return { ok: false, status: 405, data, missing: true };
  }
  if (!response.ok && response.status !== 404 && response.status !== 409) {
    throw new ApiError(response.status, (data && data.error) || response.statusText);
  }
  return { ok: response.ok, status: response.status, data, missing: false };
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
