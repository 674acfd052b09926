// The page's three <dialog>s (confirm, block reason, token), each as a promise of the answer.
import { $ } from './dom.js';

function showDialog(dialog) {
  return new Promise((resolve) => {
    dialog.returnValue = '';
    dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true });
    dialog.showModal();
  });
}

export async function confirmDialog({ title, body, ok, extra }) {
  const d = $('#confirm-dialog');
  $('#confirm-title', d).textContent = title;
  $('#confirm-body', d).textContent = body;
  $('#confirm-ok', d).textContent = ok;
  $('#confirm-extra-wrap', d).hidden = !extra;
  $('#confirm-extra', d).checked = false;
  if (extra) $('#confirm-extra-label', d).textContent = extra;
  const v = await showDialog(d);
  return { ok: v === 'ok', extra: $('#confirm-extra', d).checked };
}

/** The reason to block `ref` with, or null when cancelled or left empty. */
export async function blockReasonDialog(ref) {
  const d = $('#block-dialog');
  $('#block-ref', d).textContent = ref;
  $('#block-reason', d).value = '';
  const v = await showDialog(d);
  const reason = $('#block-reason', d).value.trim();
  return v === 'ok' && reason ? reason : null;
}

let tokenPrompt = null;
/** Asks for the dashboard token (one prompt at a time, shared by concurrent callers); null when cancelled. */
export async function askToken(why) {
  if (tokenPrompt) return tokenPrompt;
  const d = $('#token-dialog');
  $('#token-why', d).textContent = why;
  $('#token-why', d).classList.toggle('why', /refused/i.test(why));
  $('#token-input', d).value = '';
  tokenPrompt = showDialog(d).then((v) => {
    tokenPrompt = null;
    const t = $('#token-input', d).value.trim();
    return v === 'ok' && t ? t : null;
  });
  return tokenPrompt;
}

/** Enter in the block reason submits "Block" only with a reason. */
export function guardBlockForm() {
  $('#block-form').addEventListener('submit', (e) => {
    if (e.submitter?.value === 'ok' && !$('#block-reason').value.trim()) {
      e.preventDefault();
      $('#block-reason').focus();
    }
  });
}
