// The live stream (GET /api/events, Server-Sent Events) and the Live / Reconnecting / Offline dot.
import { $ } from './dom.js';

function setConn(status, text) {
  const c = $('#conn');
  c.dataset.status = status;
  $('.conn-text', c).textContent = text;
}

/**
 * Opens the stream and hands each event to its handler: `stats` (hello, stats),
 * `state`, `progress`, `removed` (the event data), `resync` (refetch), and
 * `reconnected` once the stream is back after an error (events may have been missed).
 */
export function connectEvents(handlers) {
  let es = null;
  let retryMs = 1000;
  const connect = () => {
    es?.close();
    es = new EventSource('/api/events');
    let hadError = false;
    es.addEventListener('open', () => {
      setConn('live', 'Live');
      retryMs = 1000;
      if (hadError) {
        hadError = false;
        handlers.reconnected();
      }
    });
    es.addEventListener('error', () => {
      hadError = true;
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. the server answered an error): try again ourselves, backing off.
        setConn('offline', 'Offline — reconnecting');
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 30_000);
      } else {
        setConn('connecting', 'Reconnecting…');
      }
    });
    es.addEventListener('hello', (e) => handlers.stats(JSON.parse(e.data).stats));
    es.addEventListener('stats', (e) => handlers.stats(JSON.parse(e.data)));
    es.addEventListener('resync', () => handlers.resync());
    es.addEventListener('state', (e) => handlers.state(JSON.parse(e.data)));
    es.addEventListener('progress', (e) => handlers.progress(JSON.parse(e.data)));
    es.addEventListener('removed', (e) => handlers.removed(JSON.parse(e.data)));
  };
  connect();
}
