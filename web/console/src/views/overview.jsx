// The overview of one agency (or every agency the token may see): alerts by
// level over the last 24 hours and 7 days as stacked bar charts (inline
// SVG), top rules, top sources, open versus closed. GET /api/v1/overview
// is served from in-memory rollups, so this view is cheap to refresh.
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { LEVELS } from '../format.jsx';

const COLORS = {
  informational: '#8d99ae', low: '#4d908e', medium: '#f9c74f', high: '#f3722c', critical: '#d00000',
};

function StackedBars({ buckets, label, testid }) {
  const width = 720;
  const height = 180;
  const pad = 28;
  const totals = buckets.map((bucket) => LEVELS.reduce((sum, level) => sum + (bucket.counts[level] || 0), 0));
  const max = Math.max(1, ...totals);
  const slot = (width - pad) / Math.max(1, buckets.length);
  const bar = Math.max(2, slot * 0.7);
  return (
    <figure class="chart" data-testid={testid} data-total={totals.reduce((a, b) => a + b, 0)}>
      <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={label}>
        <line x1={pad} y1={height} x2={width} y2={height} stroke="#999" />
        <text x="0" y="12" class="axis">{max}</text>
        <text x="0" y={height} class="axis">0</text>
        {buckets.map((bucket, index) => {
          let y = height;
          const x = pad + index * slot + (slot - bar) / 2;
          const start = new Date(bucket.start);
          const tick = buckets.length > 7 ? `${String(start.getUTCHours()).padStart(2, '0')}h`
            : start.toISOString().slice(5, 10);
          return (
            <g>
              {LEVELS.map((level) => {
                const count = bucket.counts[level] || 0;
                if (!count) return null;
                const h = (count / max) * (height - 16);
                y -= h;
                return <rect x={x} y={y} width={bar} height={h} fill={COLORS[level]}>
                  <title>{`${bucket.start} ${level}: ${count}`}</title></rect>;
              })}
              {(buckets.length <= 7 || index % 3 === 0) && (
                <text x={x} y={height + 14} class="axis">{tick}</text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>{label}</figcaption>
    </figure>
  );
}

function Legend() {
  return (
    <p class="legend">{LEVELS.map((level) => (
      <span><svg width="10" height="10"><rect width="10" height="10" fill={COLORS[level]} /></svg>{' '}
        {level}</span>
    ))}</p>
  );
}

function OpenClosed({ open, closed }) {
  const total = Math.max(1, open + closed);
  const width = 300;
  return (
    <figure class="chart small-chart" data-testid="open-closed" data-open={open} data-closed={closed}>
      <svg viewBox={`0 0 ${width} 24`} role="img" aria-label="open versus closed">
        <rect x="0" y="0" width={(open / total) * width} height="24" fill="#f3722c" />
        <rect x={(open / total) * width} y="0" width={(closed / total) * width} height="24"
          fill="#4d908e" />
      </svg>
      <figcaption>{open} open · {closed} closed</figcaption>
    </figure>
  );
}

export function OverviewView({ identity, live }) {
  const [agency, setAgency] = useState('');
  const [reply, setReply] = useState(null);
  const [error, setError] = useState('');
  const load = () => api(`/api/v1/overview${query({ agency })}`).then(setReply)
    .catch((failure) => setError(failure.message));
  useEffect(() => {
    load();
    const timer = setInterval(load, 10000);
    return () => clearInterval(timer);
  }, [agency]);
  const known = new Set(identity.role === 'agency-analyst' ? identity.agencies : []);
  if (identity.role !== 'agency-analyst') {
    for (const alert of live.alerts) known.add(alert.agency);
  }
  const data = reply && reply.ok ? reply.data : null;
  return (
    <section data-testid="overview-view">
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <select value={agency} onChange={(event) => setAgency(event.currentTarget.value)}
          data-testid="overview-agency">
          <option value="">{identity.role === 'agency-analyst' ? 'all my agencies' : 'all agencies'}</option>
          {[...known].sort().map((name) => <option value={name}>{name}</option>)}
        </select>
      </form>
      {error && <p class="error">{error}</p>}
      {reply && !reply.ok && (
        <p class="note" data-testid="overview-unavailable">
          {reply.missing ? 'This server has no overview.' : (reply.data && reply.data.error)}</p>
      )}
      {data && (
        <>
          <Legend />
          <div class="columns">
            <StackedBars buckets={data.levels_24h} label="Alerts by level, last 24 hours (UTC)"
              testid="chart-24h" />
            <StackedBars buckets={data.levels_7d} label="Alerts by level, last 7 days (UTC)"
              testid="chart-7d" />
          </div>
          <OpenClosed open={data.open} closed={data.closed} />
          <div class="columns">
            <section class="panel" data-testid="top-rules">
              <h3>Top rules (7 days)</h3>
              <table><tbody>{data.top_rules.map((rule) => (
                <tr><td>{rule.title || rule.rule_id}</td><td class="num">{rule.count}</td></tr>
              ))}</tbody></table>
            </section>
            <section class="panel" data-testid="top-sources">
              <h3>Top sources (7 days)</h3>
              <table><tbody>{data.top_sources.map((source) => (
                <tr><td class="mono">{source.source}</td><td class="num">{source.count}</td></tr>
              ))}</tbody></table>
            </section>
          </div>
        </>
      )}
    </section>
  );
}
