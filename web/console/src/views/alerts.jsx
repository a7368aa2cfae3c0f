// The live alert list: filters (agency, level, rule, status, assignee, text)
// applied by the server to the first page and the stream, and again here to
// what is shown (a triage change can move an alert out of a status filter).
import { Component } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { SHOWN } from '../live.js';
import { LEVELS, STATUSES, LevelBadge, assigneeOf, formatTime, sourceOf, statusOf } from '../format.jsx';

const EMPTY = { agency: '', level: '', rule: '', status: '', assignee: '', q: '' };
let filters = { ...EMPTY };  // kept across views
let started = null;  // the filters the running stream was started with (JSON)
let serverTriageFilters = true;  // false once the server refused status/assignee

function serverParams(current) {
  const params = { agency: current.agency, level: current.level, rule: current.rule, q: current.q };
  if (serverTriageFilters) {
    params.status = current.status;
    params.assignee = current.assignee;
  }
  return params;
}

// (Re)starts the list and its stream when the filters changed.
export async function ensureLive(live, onUnauthorized, force = false) {
  const key = JSON.stringify(filters);
  if (!force && started === key && live.stream) return;
  started = key;
  let reply;
  for (;;) {
    try {
      reply = await api(`/api/v1/alerts${query({ ...serverParams(filters), limit: SHOWN })}`);
    } catch (error) {
      reply = { ok: false, status: error.status || 0, data: { error: error.message } };
    }
    const error = (reply.data && reply.data.error) || '';
    if (reply.status === 400 && serverTriageFilters && /status|assignee/.test(error)) {
      serverTriageFilters = false;  // an older server: filter those here
      continue;
    }
    break;
  }
  if (started !== key) return;  // changed again meanwhile
  if (!reply.ok) {
    live.stop();
    live.state = 'error';
    live.detail = (reply.data && reply.data.error) || `HTTP ${reply.status}`;
    live.notify();
    return;
  }
  live.restart(reply.data.alerts || [], serverParams(filters), onUnauthorized);
  live.searchNote = '';
  searchOlder(live, key, reply.data);
}

// A text search scans a bounded id window per request (25,000 alerts): when
// the window ended before the page filled, the server returns a cursor.
// Follow it (after the first view is shown) up to TEXT_PAGES windows, so
// sparse matches still fill the list; say how far the search went.
const TEXT_PAGES = 40;
async function searchOlder(live, key, first) {
  let found = (first.alerts || []).length;
  let cursor = first.next_cursor;
  let pages = 1;
  for (; filters.q && cursor && found < SHOWN && pages < TEXT_PAGES; ++pages) {
    let more;
    try {
      more = await api(`/api/v1/alerts${query({ ...serverParams(filters), limit: SHOWN - found, cursor })}`);
    } catch {
      return;
    }
    if (started !== key || !more.ok) return;
    const alerts = more.data.alerts || [];
    for (const alert of alerts) live.insert(alert, false);
    found += alerts.length;
    cursor = more.data.next_cursor;
    live.notify();
  }
  if (started !== key) return;
  live.searchNote = filters.q && cursor && found < SHOWN
    ? `text search stopped after ${pages} windows of 25,000 alerts (older alerts not searched)`
    : '';
  live.notify();
}

function matches(alert, current) {
  if (current.status && !current.status.split(',').includes(statusOf(alert))) return false;
  if (current.assignee && assigneeOf(alert) !== current.assignee) return false;
  return true;
}

// One row; re-rendered only when its alert object changes (a triage change
// replaces the object), so a frame with new alerts renders only those.
class Row extends Component {
  shouldComponentUpdate(next) {
    return next.alert !== this.props.alert;
  }
  render({ alert }) {
    const status = statusOf(alert);
    return (
      <tr data-testid="alert-row" data-id={alert.id} data-status={status}
        data-agency={alert.agency} onClick={() => { window.location.hash = `#/alerts/${alert.id}`; }}>
        <td class="mono">{alert.id}</td>
        <td class="mono">{formatTime(alert.time)}</td>
        <td><LevelBadge level={alert.rule.level} /></td>
        <td><a href={`#/alerts/${alert.id}`}>{alert.rule.title || alert.rule.id}</a></td>
        <td>{alert.agency}</td>
        <td class="mono">{sourceOf(alert)}</td>
        <td><span class={`status status-${status}`} data-testid="alert-status">{status}</span></td>
        <td>{assigneeOf(alert)}</td>
      </tr>
    );
  }
}

function Filters({ identity, onChange }) {
  const [draft, setDraft] = useState(filters);
  useEffect(() => {
    const timer = setTimeout(() => {
      if (JSON.stringify(draft) !== JSON.stringify(filters)) onChange(draft);
    }, 250);
    return () => clearTimeout(timer);
  }, [draft]);
  const set = (name) => (event) => setDraft({ ...draft, [name]: event.currentTarget.value });
  const agencies = identity.role === 'agency-analyst' ? identity.agencies : null;
  return (
    <form class="filters" onSubmit={(event) => event.preventDefault()} data-testid="filters">
      {agencies ? (
        <select value={draft.agency} onChange={set('agency')} data-testid="filter-agency">
          <option value="">all my agencies</option>
          {agencies.map((name) => <option value={name}>{name}</option>)}
        </select>
      ) : (
        <input placeholder="agency" value={draft.agency} onInput={set('agency')}
          data-testid="filter-agency" />
      )}
      <select value={draft.level} onChange={set('level')} data-testid="filter-level">
        <option value="">any level</option>
        {LEVELS.map((level) => <option value={`${level}+`}>{level} or higher</option>)}
        {LEVELS.map((level) => <option value={level}>only {level}</option>)}
      </select>
      <input placeholder="rule id or name" value={draft.rule} onInput={set('rule')}
        data-testid="filter-rule" />
      <select value={draft.status} onChange={set('status')} data-testid="filter-status">
        <option value="">any status</option>
        <option value="new,acknowledged,in_progress">open</option>
        {STATUSES.map((status) => <option value={status}>{status}</option>)}
      </select>
      <input placeholder="assignee" value={draft.assignee} onInput={set('assignee')}
        data-testid="filter-assignee" />
      <input placeholder="text" value={draft.q} onInput={set('q')} data-testid="filter-text"
        class="wide" />
      <button type="button" class="small" onClick={() => setDraft({ ...EMPTY })}>Clear</button>
    </form>
  );
}

export function AlertsView({ live, identity, onUnauthorized }) {
  const [, setVersion] = useState(0);
  const [, setFilterVersion] = useState(0);
  useEffect(() => {
    const unsubscribe = live.subscribe(setVersion);
    ensureLive(live, onUnauthorized);
    return unsubscribe;
  }, []);
  const change = (next) => {
    filters = { ...next };
    setFilterVersion((version) => version + 1);
    ensureLive(live, onUnauthorized);
  };
  const shown = [];
  for (const alert of live.alerts) {
    if (shown.length >= SHOWN) break;
    if (matches(alert, filters)) shown.push(alert);
  }
  return (
    <section>
      <Filters identity={identity} onChange={change} />
      <p class="counts" data-testid="alert-count" data-received={live.received}
        data-kept={live.alerts.length}>
        {live.received} received live · {live.alerts.length} kept · showing the newest{' '}
        {shown.length}
        {live.skipped > 0 && ` · ${live.skipped} skipped while the page was hidden`}
        {live.state === 'error' && <span class="error"> · {live.detail}</span>}
        {live.searchNote && <span data-testid="search-note"> · {live.searchNote}</span>}
      </p>
      <table class="alerts" data-testid="alert-table">
        <thead>
          <tr><th>id</th><th>time</th><th>level</th><th>rule</th><th>agency</th><th>source</th>
            <th>status</th><th>assignee</th></tr>
        </thead>
        <tbody>{shown.map((alert) => <Row key={alert.id} alert={alert} />)}</tbody>
      </table>
      {shown.length === 0 && <p class="empty" data-testid="no-alerts">No alerts match.</p>}
    </section>
  );
}
