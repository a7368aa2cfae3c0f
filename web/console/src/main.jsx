// The gsoc console: sign in with a token, then the live alert list, alert
// detail with triage, cases and the per-agency overview. Routes are in the
// URL fragment (#/alerts, #/alerts/17, #/cases, #/cases/3, #/overview), so
// the server only ever serves index.html and /assets/.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { api, getToken, setToken, setUnauthorizedHandler } from './api.js';
import { LiveAlerts } from './live.js';
import { AlertsView, ensureLive } from './views/alerts.jsx';
import { AlertDetail } from './views/alert_detail.jsx';
import { CasesView, CaseDetail } from './views/cases.jsx';
import { OverviewView } from './views/overview.jsx';

const live = new LiveAlerts();
// For the browser tests and debugging in the devtools: the live list's model.
window.gsocConsole = { live };

function currentRoute() {
  const hash = window.location.hash.replace(/^#/, '') || '/alerts';
  const parts = hash.split('/').filter(Boolean);
  return { view: parts[0] || 'alerts', id: parts[1] ? decodeURIComponent(parts[1]) : null };
}

// What the token may do: GET /api/v1/whoami, or, on a server without it
// (a config token of an older gsocd), an admin.
async function loadIdentity() {
  const reply = await api('/api/v1/whoami');
  if (reply.missing) {
    const probe = await api('/api/v1/alerts?limit=1');
    if (!probe.ok) throw new Error((probe.data && probe.data.error) || 'the token was refused');
    return { name: 'token', role: 'admin', agencies: [], assumed: true };
  }
  if (!reply.ok) throw new Error((reply.data && reply.data.error) || 'whoami failed');
  return { agencies: [], ...reply.data };
}

function SignIn({ onSignedIn, error }) {
  const [token, setValue] = useState('');
  const [message, setMessage] = useState(error || '');
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setMessage('');
    setToken(token.trim());
    try {
      onSignedIn(await loadIdentity());
    } catch (failure) {
      setToken('');
      setMessage(failure.message || 'sign in failed');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} data-testid="signin-form">
        <h1>gsoc console</h1>
        <label for="token">API token</label>
        <input id="token" type="password" autocomplete="off" value={token}
          data-testid="token-input" onInput={(event) => setValue(event.currentTarget.value)} />
        <button type="submit" disabled={busy || !token.trim()} data-testid="signin-button">
          Sign in
        </button>
        {message && <p class="error" data-testid="signin-error">{message}</p>}
        <p class="hint">The token stays in this tab (sessionStorage) and is sent only in the
          Authorization header.</p>
      </form>
    </main>
  );
}

function StreamState() {
  const [, setVersion] = useState(0);
  useEffect(() => live.subscribe(setVersion), []);
  return (
    <span class={`stream stream-${live.state}`} data-testid="stream-state"
      title={live.detail}>{live.state}</span>
  );
}

function Header({ identity, route, onSignOut }) {
  const [note, setNote] = useState('');
  const reload = async () => {
    try {
      const reply = await api('/api/v1/rules/reload', { method: 'POST' });
      setNote(reply.ok ? 'reloading rules' : (reply.data && reply.data.error) || 'refused');
    } catch (error) {
      setNote(error.message);
    }
    setTimeout(() => setNote(''), 4000);
  };
  const link = (view, label) => (
    <a href={`#/${view}`} class={route.view === view ? 'active' : ''}
      data-testid={`nav-${view}`}>{label}</a>
  );
  return (
    <header>
      <strong class="brand">gsoc</strong>
      <nav>{link('alerts', 'Alerts')}{link('cases', 'Cases')}{link('overview', 'Overview')}</nav>
      <StreamState />
      <span class="spacer" />
      {note && <span class="note">{note}</span>}
      {identity.role === 'admin' && (
        <button type="button" class="small" onClick={reload} data-testid="reload-rules">
          Reload rules
        </button>
      )}
      <span class="identity" data-testid="identity">
        {identity.name} · <span data-testid="role">{identity.role}</span>
        {identity.agencies && identity.agencies.length > 0 && ` · ${identity.agencies.join(', ')}`}
      </span>
      <button type="button" class="small" onClick={onSignOut} data-testid="signout">Sign out</button>
    </header>
  );
}

function App() {
  const [identity, setIdentity] = useState(null);
  const [checking, setChecking] = useState(Boolean(getToken()));
  const [error, setError] = useState('');
  const [route, setRoute] = useState(currentRoute());

  const signOut = (message) => {
    live.stop();
    setToken('');
    setIdentity(null);
    setError(typeof message === 'string' ? message : '');
  };

  useEffect(() => {
    setUnauthorizedHandler(() => signOut('the token was refused: sign in again'));
    const onHash = () => setRoute(currentRoute());
    window.addEventListener('hashchange', onHash);
    if (getToken()) {
      loadIdentity()
        .then(setIdentity)
        .catch((failure) => signOut(failure.message))
        .finally(() => setChecking(false));
    }
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {  // the stream runs in every view: triage changes reach detail views too
    if (identity) ensureLive(live, () => signOut('the token was refused: sign in again'));
  }, [identity]);

  if (checking) return <main class="signin"><p>Checking the token…</p></main>;
  if (!identity) return <SignIn onSignedIn={setIdentity} error={error} />;
  const mayTriage = identity.role !== 'viewer';
  let view;
  if (route.view === 'alerts' && route.id) {
    view = <AlertDetail id={route.id} live={live} mayTriage={mayTriage} identity={identity} />;
  } else if (route.view === 'cases' && route.id) {
    view = <CaseDetail id={route.id} mayTriage={mayTriage} />;
  } else if (route.view === 'cases') {
    view = <CasesView identity={identity} />;
  } else if (route.view === 'overview') {
    view = <OverviewView identity={identity} live={live} />;
  } else {
    view = <AlertsView live={live} identity={identity} onUnauthorized={() => signOut()} />;
  }
  return (
    <>
      <Header identity={identity} route={route} onSignOut={() => signOut()} />
      <main>{view}</main>
    </>
  );
}

render(<App />, document.getElementById('app'));
