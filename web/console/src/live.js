// The live alert list's model: the newest `keep` alerts (newest first), a
// count of everything received, and the raw events waiting for the next
// animation frame. The stream hands events over as they arrive; they are
// parsed and applied once per frame, so 10,000 alerts/s cost one render per
// frame, not one per alert (and, while each frame brings over 100 alerts, one
// render per 250 ms: the rows would all be replaced anyway). When frames do not run (a hidden tab), the
// waiting queue keeps only the newest `keep` alert events (the rest are
// counted, then dropped: the list shows the newest anyway).
import { AlertStream } from './stream.js';
import { api, query } from './api.js';

export const KEEP = 2000;  // alerts kept in memory
export const SHOWN = 200;  // rows rendered
const BUSY_RENDER_MS = 250;  // at most 4 renders/s while hundreds of alerts arrive per frame

export class LiveAlerts {
  constructor() {
    this.alerts = [];  // newest first
    this.byId = new Map();
    this.received = 0;  // alert events received since the list was (re)loaded
    this.pending = [];
    this.skipped = 0;  // events dropped before parsing (hidden tab, overflow)
    this.state = 'idle';
    this.detail = '';
    this.version = 0;  // bumped on every change: views re-render on it
    this.listeners = new Set();
    this.frame = 0;
    this.stream = null;
    this.watchers = new Map();  // alert id -> callbacks (detail views)
    this.fresh = [];  // alerts of the frame being applied, oldest first
    this.lastFresh = 0;  // alerts the last frame brought
    this.lastNotify = 0;
    this.deferred = 0;  // timer of a postponed render
    this.hasTriage = false;  // the server's alerts carry "triage"
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify() {
    this.version += 1;
    for (const listener of this.listeners) listener(this.version);
  }

  watch(id, callback) {
    const key = String(id);
    if (!this.watchers.has(key)) this.watchers.set(key, new Set());
    this.watchers.get(key).add(callback);
    return () => this.watchers.get(key).delete(callback);
  }

  // A fresh list: `initial` (newest first, from GET /api/v1/alerts), then the
  // stream from after its newest id.
  restart(initial, filters, onUnauthorized) {
    if (this.stream) this.stream.stop();
    this.alerts = [];
    this.byId.clear();
    this.pending = [];
    this.received = 0;
    this.skipped = 0;
    for (const alert of initial) this.insert(alert, false);
    this.filters = filters;
    const newest = initial.length ? initial[0].id : null;
    this.stream = new AlertStream({
      params: query(filters),
      lastEventId: newest,
      onEvents: (events) => this.enqueue(events),
      onState: (state, detail) => {
        this.state = state;
        this.detail = detail || '';
        this.notify();
      },
      onUnauthorized,
    }).start();
    this.notify();
  }

  stop() {
    if (this.deferred) clearTimeout(this.deferred);
    this.deferred = 0;
    if (this.stream) this.stream.stop();
    this.stream = null;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  enqueue(events) {
    for (const event of events) this.pending.push(event);
    if (this.pending.length > KEEP * 4) {
      // Frames are not running: keep the triage changes and the newest alerts.
      const alerts = this.pending.filter((event) => event.type === 'message');
      const others = this.pending.filter((event) => event.type !== 'message');
      const dropped = Math.max(0, alerts.length - KEEP);
      this.skipped += dropped;
      this.received += dropped;
      this.pending = others.concat(alerts.slice(dropped));
    }
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.frame = 0;
    const events = this.pending;
    this.pending = [];
    this.fresh = [];
    for (const event of events) {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        continue;
      }
      if (event.type === 'triage') this.applyTriage(data);
      else if (event.type === 'triage_gap') this.refreshTriage();
      else if (event.type === 'message' || event.type === 'alert') {
        this.received += 1;
        this.insert(data, true);
      }
    }
    this.lastFresh = this.fresh.length;
    if (this.fresh.length) this.alerts = this.fresh.reverse().concat(this.alerts);
    this.fresh = [];
    if (this.alerts.length > KEEP) {
      for (const alert of this.alerts.splice(KEEP)) this.byId.delete(String(alert.id));
    }
    // At high rates every frame would replace all the rows: render at most
    // every BUSY_RENDER_MS then (the frames in between only parse).
    const now = performance.now();
    if (this.lastFresh >= SHOWN / 2 && now - this.lastNotify < BUSY_RENDER_MS) {
      if (!this.deferred) {
        this.deferred = setTimeout(() => {
          this.deferred = 0;
          this.lastNotify = performance.now();
          this.notify();
        }, BUSY_RENDER_MS - (now - this.lastNotify));
      }
      return;
    }
    this.lastNotify = now;
    this.notify();
  }

  insert(alert, live) {
    if (alert.triage) this.hasTriage = true;
    const key = String(alert.id);
    if (this.byId.has(key)) return;
    const replaces = alert.aggregate && alert.aggregate.replaces;
    if (replaces && replaces !== '0' && this.byId.has(String(replaces))) {
      const old = this.byId.get(String(replaces));
      this.byId.delete(String(replaces));
      for (const list of [this.alerts, this.fresh || []]) {
        const at = list.indexOf(old);
        if (at >= 0) list.splice(at, 1);
      }
    }
    this.byId.set(key, alert);
    if (live) this.fresh.push(alert);
    else this.alerts.push(alert);
    const watchers = this.watchers.get(key);
    if (watchers) for (const callback of watchers) callback(alert);
  }

  applyTriage(change) {
    const key = String(change.id);
    const alert = this.byId.get(key);
    this.hasTriage = true;
    // A resumed stream replays the changes since its resume point: some may
    // be older than what this list already shows.
    const known = alert && alert.triage ? alert.triage.version || 0 : 0;
    if (change.triage && (change.triage.version || 0) < known) return;
    if (alert) {
      const updated = { ...alert, triage: change.triage };
      this.byId.set(key, updated);
      for (const list of [this.alerts, this.fresh || []]) {
        const at = list.indexOf(alert);
        if (at >= 0) list[at] = updated;
      }
    }
    const watchers = this.watchers.get(key);
    if (watchers) for (const callback of watchers) callback(null, change.triage);
  }

  // The server's change log no longer held every triage change since the
  // resume point (event triage_gap): re-read the triage state of the alerts
  // kept, in one query over their id range (the list's filters but status
  // and assignee, so an alert that left a status filter is updated too).
  async refreshTriage() {
    if (!this.alerts.length) return;
    let low = Infinity;
    let high = 0;
    for (const alert of this.alerts) {
      const id = Number(alert.id);
      if (id < low) low = id;
      if (id > high) high = id;
    }
    const { status, assignee, ...others } = this.filters || {};
    const params = { ...others, after_id: low - 1, before_id: high + 1, limit: 10000 };
    try {
      const reply = await api(`/api/v1/alerts${query(params)}`);
      if (!reply.ok) return;
      for (const alert of reply.data.alerts || []) {
        if (alert.triage) this.applyTriage({ id: alert.id, triage: alert.triage });
      }
      this.notify();
    } catch {
      // the next change or reload shows the state
    }
  }
}
