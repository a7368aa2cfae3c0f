// The live alert stream: GET /api/v1/alerts/stream read with fetch() (so
// the token travels in the Authorization header; EventSource cannot send
// one, and a token in the URL would leak into logs), parsed as Server-Sent
// Events here, and resumed with Last-Event-ID after any disconnect (the
// server then replays what was missed from the store: no gap, no duplicate).
//
// Events are handed over raw (no JSON parsing here): the caller batches them
// per animation frame.
import { getToken } from './api.js';

export class AlertStream {
  // onEvents(events): [{type, id, data}] ; onState(state, detail)
  constructor({ params, lastEventId, onEvents, onState, onUnauthorized }) {
    this.params = params;
    this.lastEventId = lastEventId || null;
    this.onEvents = onEvents;
    this.onState = onState;
    this.onUnauthorized = onUnauthorized;
    this.controller = null;
    this.stopped = false;
    this.reconnects = 0;
  }

  start() {
    this.loop();
    return this;
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
  }

  async loop() {
    let backoff = 500;
    while (!this.stopped) {
      const started = Date.now();
      try {
        await this.once();
      } catch (error) {
        if (this.stopped) return;
        this.onState('reconnecting', String(error && error.message ? error.message : error));
      }
      if (this.stopped) return;
      this.reconnects += 1;
      if (Date.now() - started > 10000) backoff = 500;  // it ran a while: retry soon
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, 10000);
    }
  }

  async once() {
    this.controller = new AbortController();
    const headers = { Authorization: `Bearer ${getToken()}`, Accept: 'text/event-stream' };
    if (this.lastEventId) headers['Last-Event-ID'] = String(this.lastEventId);
    this.onState('connecting');
    const response = await fetch(`/api/v1/alerts/stream${this.params}`, {
      headers,
      cache: 'no-store',
      signal: this.controller.signal,
    });
    if (response.status === 401) {
      this.stopped = true;
      this.onUnauthorized();
      return;
    }
    if (response.status === 409) {  // the resume id is unknown (a new data dir): start fresh
      this.lastEventId = null;
      throw new Error('resume id unknown to the server; starting from now');
    }
    if (!response.ok) {
      let message = response.statusText;
      try {
        message = (await response.json()).error || message;
      } catch {
        // not JSON
      }
      throw new Error(`stream: ${response.status} ${message}`);
    }
    this.onState('live');
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the server closed the stream');
      buffer += decoder.decode(value, { stream: true });
      if (buffer.indexOf('\r') >= 0) buffer = buffer.replace(/\r\n?/g, '\n');
      const events = [];
      let start = 0;
      for (;;) {
        const end = buffer.indexOf('\n\n', start);
        if (end < 0) break;
        const event = parseEvent(buffer.slice(start, end));
        start = end + 2;
        if (!event) continue;
        if (event.id) this.lastEventId = event.id;
        if (event.data !== null) events.push(event);
      }
      buffer = buffer.slice(start);
      if (buffer.length > 8 << 20) throw new Error('an event larger than 8 MB');
      if (events.length) this.onEvents(events);
    }
  }
}

// One SSE event block -> {type, id, data} (null for comments only).
export function parseEvent(block) {
  let type = 'message';
  let id = null;
  let data = null;
  for (const line of block.split('\n')) {
    if (!line || line[0] === ':') continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'data') data = data === null ? value : `${data}\n${value}`;
    else if (field === 'id') id = value;
    else if (field === 'event') type = value;
  }
  if (data === null && id === null) return null;
  return { type, id, data };
}
