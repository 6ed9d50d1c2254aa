// The voicemail inbox on the desktop and supervisor pages (/api/voicemail): the
// messages callers left in the queues' boxes, with Play, Take, Call back and
// Handled. Refreshed every few seconds; values go in with textContent only.
(() => {
  const panel = document.getElementById('vm');
  if (!panel) return;
  const $ = (id) => document.getElementById(id);
  const body = panel.querySelector('#vm-list tbody');
  const player = $('vm-player');
  const say = (text) => { $('vm-message').textContent = text; };

  function ivr(path) {
    return (path || []).map((step) => (typeof step === 'object' ? Object.values(step).join(':') : String(step))).join(' › ');
  }

  async function act(message, action) {
    try {
      await api(`/api/voicemail/${message.id}/${action}`, { method: 'POST', body: '{}' });
      say(action === 'callback' ? `Callback booked to ${message.caller}.` : `Message ${action === 'take' ? 'taken' : 'handled'}.`);
    } catch (error) {
      say(error.message);
    }
    load();
  }

  function play(message) {
    player.hidden = false;
    player.src = `/api/voicemail/${message.id}/audio`;
    player.play().catch(() => {});
  }

  function row(message) {
    const button = (label, onClick, enabled = true) => {
      const node = el('button', { type: 'button', textContent: label, disabled: !enabled });
      node.addEventListener('click', onClick);
      return node;
    };
    const open = message.status !== 'handled';
    const owner = message.owner ? ` (${message.owner})` : '';
    const actions = el('td', {},
      button('Play', () => play(message)),
      button('Take', () => act(message, 'take'), message.status === 'new'),
      button('Call back', () => act(message, 'callback'), open && !!message.caller && message.callback_id === null),
      button('Handled', () => act(message, 'handled'), open));
    const tr = el('tr', {},
      el('td', { textContent: new Date(message.left_at * 1000).toLocaleString() }),
      el('td', { textContent: message.caller || 'withheld' }),
      el('td', { textContent: message.queue || DASH }),
      el('td', { textContent: duration(message.duration, { round: true }) }),
      el('td', { textContent: ivr(message.ivr_path) || DASH }),
      el('td', { textContent: message.status + owner }),
      actions);
    tr.dataset.id = String(message.id);
    return tr;
  }

  async function load() {
    try {
      const status = $('vm-status').value;
      const found = await api(`/api/voicemail${status ? `?status=${status}` : ''}`);
      body.replaceChildren(...found.voicemails.map(row));
      if (!found.voicemails.length) body.append(el('tr', {}, el('td', { colSpan: 7, textContent: 'No messages.' })));
    } catch (error) {
      say(error.message);
    }
  }

  $('vm-status').addEventListener('change', load);
  $('vm-refresh').addEventListener('click', load);
  load();
  setInterval(load, 5000);
})();
