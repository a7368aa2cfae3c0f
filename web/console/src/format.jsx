// Small display helpers shared by the views.
export const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'];
export const STATUSES = ['new', 'acknowledged', 'in_progress', 'closed'];
export const REASONS = ['true_positive', 'false_positive', 'benign', 'duplicate'];

export function formatTime(text) {
  if (!text) return '';
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return text;
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function statusOf(alert) {
  return (alert && alert.triage && alert.triage.status) || 'new';
}

export function assigneeOf(alert) {
  return (alert && alert.triage && alert.triage.assignee) || '';
}

const SOURCE_FIELDS = ['src_ip', 'source_ip', 'SourceIp', 'IpAddress', 'client_ip', 'host',
  'hostname', 'Computer'];

export function sourceOf(alert) {
  for (const name of SOURCE_FIELDS) {
    if (alert.fields && alert.fields[name]) return alert.fields[name];
    if (alert.group && alert.group[name]) return alert.group[name];
  }
  return '';
}

export function LevelBadge({ level }) {
  return <span class={`level level-${level}`}>{level}</span>;
}
