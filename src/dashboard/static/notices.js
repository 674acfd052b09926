// Toasts: short notices in the aria-live region; failures stay longer and are alerts.
import { ApiError } from './api.js';
import { $, el } from './dom.js';

export function toast(title, { hint, bad = false, ms = bad ? 8000 : 3500 } = {}) {
  const box = $('#toasts');
  const t = el('div', { class: `toast${bad ? ' bad' : ''}`, role: bad ? 'alert' : null }, el('strong', { text: title }), hint ? el('span', { class: 'hint', text: hint }) : null);
  box.append(t);
  setTimeout(() => t.remove(), ms);
  while (box.children.length > 4) box.firstElementChild.remove();
}

/** A failed request as a toast: the server's hint and error code under the message. */
export function fail(what, e) {
  const hint = e instanceof ApiError ? [e.hint, e.code].filter(Boolean).join(' · ') : undefined;
  toast(`${what}: ${e.message}`, { bad: true, hint });
}
