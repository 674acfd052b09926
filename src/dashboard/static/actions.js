// What the buttons do: each action calls the API and says how it went. The live stream
// brings the changed record, so nothing here touches the table.
import { api, enc } from './api.js';
import { blockReasonDialog, confirmDialog } from './dialogs.js';
import { $, el } from './dom.js';
import { fail, toast } from './notices.js';

export async function retry(ref) {
  try {
    await api('POST', `/api/images/${enc(ref)}/retry`);
    toast('Queued again', { hint: ref });
  } catch (e) {
    fail(`Retry of ${ref} failed`, e);
  }
}

export async function unblock(ref) {
  try {
    await api('POST', `/api/images/${enc(ref)}/unblock`, {});
    toast('Unblocked and queued', { hint: ref });
  } catch (e) {
    fail(`Unblock of ${ref} failed`, e);
  }
}

export async function block(ref) {
  const reason = await blockReasonDialog(ref);
  if (!reason) return;
  try {
    await api('POST', `/api/images/${enc(ref)}/block`, { reason });
    toast('Blocked', { hint: `${ref}: ${reason}` });
  } catch (e) {
    fail(`Block of ${ref} failed`, e);
  }
}

export async function remove(r) {
  const { ok, extra } = await confirmDialog({
    title: 'Remove image?',
    body: `ferry forgets ${r.ref} and drops its pending copy job. A pod that uses it queues it again.`,
    ok: 'Remove',
    extra: r.digest || r.state === 'mirrored' ? `Also delete ${r.mirrorRef} from the mirror registry` : null,
  });
  if (!ok) return;
  try {
    const { data } = await api('DELETE', `/api/images/${enc(r.ref)}${extra ? '?fromMirror=true' : ''}`);
    const mirror = data?.mirror;
    toast('Removed', { hint: mirror ? (mirror.deleted ? `deleted ${mirror.mirrorRef} from the mirror` : 'it was not in the mirror') : r.ref });
  } catch (e) {
    fail(`Remove of ${r.ref} failed`, e);
  }
}

/** The add form's submit: errors show under the field (a refused token also as a toast). */
export async function addImage(ev) {
  ev.preventDefault();
  const input = $('#add-ref');
  const err = $('#add-error');
  const ref = input.value.trim();
  err.hidden = true;
  input.removeAttribute('aria-invalid');
  if (!ref) {
    input.focus();
    return;
  }
  try {
    const { status, data } = await api('POST', '/api/images', { ref });
    toast(status === 202 ? 'Queued for mirroring' : `Already known (${data.state})`, { hint: data.ref });
    input.value = '';
  } catch (e) {
    err.textContent = e.hint ? `${e.message} — ${e.hint}` : e.message;
    err.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    if (e.status === 401) fail('Not added', e);
  }
}

/** Copies a digest (the Clipboard API needs a secure context: else the old execCommand way). */
export async function copyDigest(text, button) {
  try {
    if (navigator.clipboard && window.isSecureContext) await navigator.clipboard.writeText(text);
    else {
      const ta = el('textarea', { class: 'sr-only', readonly: true });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    button.classList.add('copied');
    toast('Digest copied', { hint: text });
    setTimeout(() => button.classList.remove('copied'), 1500);
  } catch {
    toast('Could not copy the digest', { bad: true, hint: text });
  }
}
