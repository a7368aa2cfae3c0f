// Cases: the list (GET /api/v1/cases) and one case with its alerts, notes,
// timeline and, for roles that may triage, its actions. On a server without
// the cases routes the view says so.
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { LevelBadge, formatTime } from '../format.jsx';

function Unavailable() {
  return <p class="note" data-testid="cases-unavailable">Cases are not available on this server.</p>;
}

export function CasesView() {
  const [status, setStatus] = useState('');
  const [reply, setReply] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api(`/api/v1/cases${query({ status, limit: 200 })}`).then(setReply)
      .catch((failure) => setError(failure.message));
  }, [status]);
  if (error) return <p class="error">{error}</p>;
  if (!reply) return <p>Loading cases…</p>;
  if (reply.missing || reply.status === 404) return <Unavailable />;
  const cases = (reply.data && reply.data.cases) || [];
  return (
    <section data-testid="cases-view">
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <select value={status} onChange={(event) => setStatus(event.currentTarget.value)}>
          <option value="">any status</option>
          {['new', 'acknowledged', 'in_progress', 'closed'].map((value) => (
            <option value={value}>{value}</option>
          ))}
        </select>
      </form>
      <table class="alerts">
        <thead><tr><th>id</th><th>title</th><th>agency</th><th>severity</th><th>status</th>
          <th>assignee</th><th>alerts</th><th>updated</th></tr></thead>
        <tbody>{cases.map((item) => (
          <tr data-testid="case-row" onClick={() => { window.location.hash = `#/cases/${item.id}`; }}>
            <td class="mono">{item.id}</td>
            <td><a href={`#/cases/${item.id}`}>{item.title}</a></td>
            <td>{item.agency}</td><td><LevelBadge level={item.severity} /></td>
            <td>{item.status}</td><td>{item.assignee || ''}</td><td>{item.alert_count}</td>
            <td class="mono">{formatTime(item.updated_at)}</td>
          </tr>
        ))}</tbody>
      </table>
      {cases.length === 0 && <p class="empty">No cases.</p>}
    </section>
  );
}

export function CaseDetail({ id, mayTriage }) {
  const [item, setItem] = useState(null);
  const [state, setState] = useState('loading');
  const [note, setNote] = useState('');
  const [assignee, setAssignee] = useState('');
  const [message, setMessage] = useState('');
  const load = () => api(`/api/v1/cases/${encodeURIComponent(id)}`).then((reply) => {
    if (reply.missing) setState('missing');
    else if (!reply.ok) setState(reply.status === 404 ? 'none' : 'error');
    else {
      setItem(reply.data);
      setState('ok');
    }
  }).catch((failure) => { setMessage(failure.message); setState('error'); });
  useEffect(() => { load(); }, [id]);
  if (state === 'missing') return <Unavailable />;
  if (state === 'none') return <p class="error">No case {id} (or not yours to see).</p>;
  if (state === 'error') return <p class="error">{message || 'the case could not be read'}</p>;
  if (!item) return <p>Loading case {id}…</p>;
  const act = async (action, extra = {}) => {
    setMessage('');
    try {
      const reply = await api(`/api/v1/cases/${encodeURIComponent(id)}`, {
        method: 'POST', body: { action, ...extra, expected_version: item.version } });
      if (!reply.ok) setMessage((reply.data && reply.data.error) || `HTTP ${reply.status}`);
    } catch (error) {
      setMessage(error.message);
    }
    await load();
  };
  return (
    <article class="detail" data-testid="case-detail">
      <p><a href="#/cases">← cases</a></p>
      <h2>{item.title} <LevelBadge level={item.severity} /></h2>
      <p class="small">case {item.id} · {item.agency} · {item.status} · assignee{' '}
        {item.assignee || 'nobody'} · {item.alert_count} alerts</p>
      {mayTriage && (
        <div class="actions">
          <span class="group">
            <input placeholder="assignee" value={assignee}
              onInput={(event) => setAssignee(event.currentTarget.value)} />
            <button type="button" disabled={!assignee.trim()}
              onClick={() => act('assign', { assignee: assignee.trim() })}>Assign</button>
          </span>
          <span class="group wide">
            <textarea rows="2" placeholder="note" value={note}
              onInput={(event) => setNote(event.currentTarget.value)} />
            <button type="button" disabled={!note.trim()}
              onClick={() => { act('note', { note: note.trim() }); setNote(''); }}>Add note</button>
          </span>
          <button type="button" onClick={() => act('close')}>Close case</button>
        </div>
      )}
      {message && <p class="error">{message}</p>}
      <div class="columns">
        <section class="panel">
          <h3>Alerts</h3>
          <ul>{(item.alert_ids || []).map((alertId) => (
            <li><a href={`#/alerts/${alertId}`}>alert {alertId}</a></li>
          ))}</ul>
          <h3>Notes</h3>
          {(item.notes || []).length === 0 && <p class="empty">none</p>}
          {(item.notes || []).map((entry) => (
            <p>{typeof entry === 'string' ? entry
              : `${formatTime(entry.time)} ${entry.author || ''}: ${entry.note || entry.text || ''}`}</p>
          ))}
        </section>
        <section class="panel">
          <h3>Timeline</h3>
          <table><tbody>{(item.timeline || []).map((entry) => (
            <tr><td class="mono">{formatTime(entry.time)}</td><td>{entry.author}</td>
              <td>{entry.action}</td><td>{entry.detail}</td></tr>
          ))}</tbody></table>
        </section>
      </div>
    </article>
  );
}
