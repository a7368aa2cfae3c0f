// One alert: its fields, contributing events, the rule as it was when the
// alert fired (GET /api/v1/rules/{id}?revision=, or what the alert itself
// says on an older server),
// its triage state with the actions the role allows, and its history.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { REASONS, LevelBadge, formatTime, statusOf } from '../format.jsx';

function Pairs({ pairs }) {
  const entries = Object.entries(pairs || {});
  if (!entries.length) return <p class="empty">none</p>;
  return (
    <dl class="pairs">
      {entries.map(([name, value]) => (
        <><dt>{name}</dt><dd class="mono">{value}</dd></>
      ))}
    </dl>
  );
}

function List({ items }) {
  if (!items || !items.length) return <span class="empty">none</span>;
  return <ul>{items.map((item) => <li>{item}</li>)}</ul>;
}

function RulePanel({ alert }) {
  const [rule, setRule] = useState(null);
  const [note, setNote] = useState('');
  useEffect(() => {
    let live = true;
    // The rule as it was when the alert fired (its revision), when known.
    const revision = alert.rule.revision ? `?revision=${alert.rule.revision}` : '';
    api(`/api/v1/rules/${encodeURIComponent(alert.rule.id)}${revision}`)
      .then((reply) => {
        if (!live) return;
        if (reply.ok) setRule(reply.data);
        else setNote(reply.missing ? 'this server has no rule detail route'
          : 'the rule is no longer loaded');
      })
      .catch((error) => live && setNote(error.message));
    return () => { live = false; };
  }, [alert.rule.id, alert.rule.revision]);
  const shown = rule || { ...alert.rule, description: '', references: [], falsepositives: [] };
  const attack = (shown.tags || []).filter((tag) => tag.startsWith('attack.'));
  const other = (shown.tags || []).filter((tag) => !tag.startsWith('attack.'));
  return (
    <section class="panel" data-testid="rule-panel">
      <h3>Rule</h3>
      <p><strong data-testid="rule-title">{shown.title}</strong> <LevelBadge level={shown.level} /></p>
      <p class="mono small">{shown.id}{shown.status ? ` · ${shown.status}` : ''}
        {shown.author ? ` · ${shown.author}` : ''}</p>
      {shown.description && <p data-testid="rule-description">{shown.description}</p>}
      <h4>ATT&amp;CK</h4>
      {attack.length ? (
        <p>{attack.map((tag) => <span class="tag" data-testid="attack-tag">{tag}</span>)}</p>
      ) : <p class="empty">none</p>}
      {other.length > 0 && <p>{other.map((tag) => <span class="tag">{tag}</span>)}</p>}
      <h4>False positives</h4>
      <List items={shown.falsepositives} />
      <h4>References</h4>
      {shown.references && shown.references.length ? (
        <ul>{shown.references.map((ref) => (
          <li><a href={ref} rel="noreferrer noopener" target="_blank">{ref}</a></li>
        ))}</ul>
      ) : <span class="empty">none</span>}
      {note && <p class="note">{note}</p>}
    </section>
  );
}

function TriagePanel({ alert, mayTriage, onChanged }) {
  const [assignee, setAssignee] = useState('');
  const [note, setNote] = useState('');
  const [reason, setReason] = useState('false_positive');
  const [message, setMessage] = useState('');
  const [unavailable, setUnavailable] = useState(false);
  const triage = alert.triage || { status: 'new', version: 0 };
  const act = async (action, extra = {}) => {
    setMessage('');
    const body = { ids: [Number(alert.id)], action, ...extra,
      expected_versions: { [alert.id]: triage.version || 0 } };
    let reply;
    try {
      reply = await api('/api/v1/alerts/triage', { method: 'POST', body });
    } catch (error) {
      setMessage(error.message);  // 403 for a role that may not, 5xx...
      return;
    }
    if (reply.missing || reply.status === 404) {
      setUnavailable(true);
      return;
    }
    if (!reply.ok) {
      setMessage((reply.data && reply.data.error) || `HTTP ${reply.status}`);
      return;
    }
    const result = (reply.data.results || [])[0] || {};
    if (!result.ok) {
      setMessage(result.error === 'conflict'
        ? 'someone else changed this alert meanwhile: here is its current state'
        : result.error || 'refused');
    } else if (action === 'note') {
      setNote('');
    }
    if (result.triage) onChanged(result.triage);
  };
  return (
    <section class="panel" data-testid="triage-panel">
      <h3>Triage</h3>
      <p>Status <span class={`status status-${statusOf(alert)}`}
        data-testid="detail-status">{statusOf(alert)}</span>
        {triage.reason && <> · <span data-testid="detail-reason">{triage.reason}</span></>}
        {triage.assignee && <> · assigned to {triage.assignee}</>}
        {triage.updated_by && <span class="small"> · by {triage.updated_by}
          {triage.updated_at ? ` at ${formatTime(triage.updated_at)}` : ''}</span>}
      </p>
      {unavailable && <p class="note" data-testid="triage-unavailable">
        Triage is not available on this server.</p>}
      {mayTriage && !unavailable && (
        <div class="actions" data-testid="triage-actions">
          <button type="button" onClick={() => act('ack')} data-testid="action-ack">Acknowledge</button>
          <button type="button" onClick={() => act('start')}>Start</button>
          <span class="group">
            <input placeholder="assignee" value={assignee} data-testid="assignee-input"
              onInput={(event) => setAssignee(event.currentTarget.value)} />
            <button type="button" disabled={!assignee.trim()}
              onClick={() => act('assign', { assignee: assignee.trim() })}>Assign</button>
          </span>
          <span class="group">
            <select value={reason} onChange={(event) => setReason(event.currentTarget.value)}
              data-testid="close-reason">
              {REASONS.map((value) => <option value={value}>{value}</option>)}
            </select>
            <button type="button" onClick={() => act('close', { reason })}
              data-testid="action-close">Close</button>
          </span>
          <button type="button" onClick={() => act('reopen')}>Reopen</button>
          <span class="group wide">
            <textarea placeholder="note" value={note} rows="2" data-testid="note-input"
              onInput={(event) => setNote(event.currentTarget.value)} />
            <button type="button" disabled={!note.trim()}
              onClick={() => act('note', { note: note.trim() })}>Add note</button>
          </span>
        </div>
      )}
      {!mayTriage && <p class="note">This token may only read.</p>}
      {message && <p class="error" data-testid="triage-message">{message}</p>}
    </section>
  );
}

function History({ id, version }) {
  const [history, setHistory] = useState(null);
  useEffect(() => {
    api(`/api/v1/alerts/${id}/history`)
      .then((reply) => setHistory(reply.ok ? reply.data.history || [] : null))
      .catch(() => setHistory(null));
  }, [id, version]);
  if (!history || !history.length) return null;
  return (
    <section class="panel">
      <h3>History</h3>
      <table>
        <tbody>{history.map((entry) => (
          <tr><td class="mono">{formatTime(entry.time)}</td><td>{entry.author}</td>
            <td>{entry.action}</td><td>{entry.status}{entry.reason ? ` (${entry.reason})` : ''}</td>
            <td>{entry.assignee || ''}</td><td>{entry.note || ''}</td></tr>
        ))}</tbody>
      </table>
    </section>
  );
}

export function AlertDetail({ id, live, mayTriage }) {
  const [alert, setAlert] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let current = true;
    setAlert(null);
    setError('');
    api(`/api/v1/alerts/${encodeURIComponent(id)}`)
      .then((reply) => {
        if (!current) return;
        if (reply.ok) setAlert(reply.data);
        else setError(reply.status === 404 ? `No alert ${id} (or not yours to see).`
          : (reply.data && reply.data.error) || `HTTP ${reply.status}`);
      })
      .catch((failure) => current && setError(failure.message));
    // Triage changes from the live stream (another analyst, another tab).
    const unwatch = live.watch(id, (fresh, triage) => {
      if (triage) setAlert((old) => (old ? { ...old, triage } : old));
    });
    return () => { current = false; unwatch(); };
  }, [id]);
  if (error) return <p class="error" data-testid="detail-error">{error}</p>;
  if (!alert) return <p>Loading alert {id}…</p>;
  const changed = (triage) => setAlert((old) => ({ ...old, triage }));
  return (
    <article class="detail" data-testid="alert-detail" data-id={alert.id}>
      <p><a href="#/alerts">← alerts</a></p>
      <h2>{alert.rule.title} <LevelBadge level={alert.rule.level} /></h2>
      <p class="mono small">alert {alert.id} · {formatTime(alert.time)} · {alert.kind} · agency{' '}
        {alert.agency} · count {alert.count}</p>
      <div class="columns">
        <div>
          <TriagePanel alert={alert} mayTriage={mayTriage} onChanged={changed} />
          <section class="panel">
            <h3>Fields</h3>
            <Pairs pairs={alert.fields} />
            {alert.group && Object.keys(alert.group).length > 0 && (
              <><h4>Group</h4><Pairs pairs={alert.group} /></>
            )}
            {alert.correlation && (
              <p>Correlation {alert.correlation.type}: {alert.correlation.condition} (value{' '}
                {String(alert.correlation.value)})</p>
            )}
          </section>
          <section class="panel" data-testid="events-panel">
            <h3>Contributing events ({(alert.events || []).length})</h3>
            {(alert.events || []).map((event) => (
              <div class="event"><span class="mono small">{event.id} · {formatTime(event.time)}</span>
                <pre>{event.raw}</pre></div>
            ))}
          </section>
          <History id={alert.id} version={alert.triage && alert.triage.version} />
        </div>
        <RulePanel alert={alert} />
      </div>
    </article>
  );
}
