// The agent desktop: state buttons, the live screen pop, and wrap-up.
// Every value shown comes from /api/desktop/current or a live message; text is
// always set with textContent (caller names come from the phone network).
(() => {
  const root = document.getElementById('desktop');
  if (!root) return;
  const agent = root.dataset.agent;
  const $ = (id) => document.getElementById(id);
  const PHASES = {
    ringing: 'Ringing:', talking: 'On call with', 'wrap-up': 'Wrap-up:',
    'after-call': 'Last call, not wrapped up:', ended: 'Call:',
  };
  const MATCHED = {
    ivr: 'identified in the IVR', account: 'by the account entered',
    'caller-number': 'by the calling number',
  };
  const WRAP_PHASES = new Set(['talking', 'wrap-up', 'after-call', 'ended']);

  const server = serverClock();
  let since = null; // when the agent's current state began (server epoch seconds)
  let pop = null; // the call on screen
  let refreshTimer = null;

  const say = (id, text) => { $(id).textContent = text || ''; };

  function setState(state, reason, startedAt) {
    const badge = $('state');
    badge.textContent = state.replace('_', ' ');
    badge.dataset.state = state;
    say('state-reason', reason ? `(${reason})` : '');
    since = startedAt;
    $('btn-ready').disabled = state === 'ready';
    $('btn-logout').disabled = state === 'logged_out';
    tick();
  }

  function waited(call) {
    if (call.enqueued_at === null) return null;
    const end = call.answered_at || (call.phase === 'ringing' ? server.now() : null);
    return end === null ? call.wait_seconds : end - call.enqueued_at;
  }

  function renderHistory(rows) {
    const body = $('history');
    body.replaceChildren();
    for (const row of rows) {
      const tr = document.createElement('tr');
      const cells = [row.when, row.queue, row.agent, row.outcome,
        row.disposition_label || row.disposition, row.notes];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text || '';
        tr.append(td);
      }
      body.append(tr);
    }
    $('history-none').hidden = rows.length > 0;
  }

  function renderPop(call) {
    const fresh = !pop || pop.call_id !== call.call_id;
    pop = call;
    $('no-call').hidden = true;
    $('pop').hidden = false;
    root.dataset.callId = call.call_id;
    say('pop-phase', PHASES[call.phase] || `${call.phase}:`);
    say('pop-caller', call.caller_name && call.caller_name !== call.caller
      ? `${call.caller_name} (${call.caller || 'no number'})` : (call.caller || 'unknown number'));
    const customer = call.customer;
    say('customer-name', customer ? customer.name : 'Caller not in the customer records');
    fillDefinitions($('who'), customer ? [
      ['Account', customer.account], ['Tier', customer.tier],
      ['Numbers', customer.numbers.join(', ')], ['Matched', MATCHED[call.matched_by] || ''],
      ['Calling from', call.caller],
    ] : [['Calling from', call.caller], ['Name shown', call.caller_name]]);
    say('customer-notes', customer ? customer.notes : '');
    const link = $('crm-link');
    link.hidden = !call.crm_url;
    if (call.crm_url) link.href = call.crm_url; else link.removeAttribute('href');
    fillDefinitions($('why'), [
      ['Transferred by', call.transferred_from],
      ['Transfer reason', call.transfer_reason],
      ['Note', call.transfer_note],
      ['Their wrap-up', [call.previous_disposition, call.previous_notes].filter(Boolean).join(': ')],
      ['Callback', callbackReason(call)],
      ['Queue', call.queue], ['Dialled', call.dialled],
      ['IVR path', call.ivr_path.join(' → ')],
    ]);
    const wait = document.createElement('dd');
    wait.id = 'waited';
    const label = document.createElement('dt');
    label.textContent = call.answered_at ? 'Waited' : 'Waiting';
    $('why').append(label, wait);
    fillDefinitions($('ivr'), call.ivr_data.map((e) => [e.key, e.value]));
    $('ivr-none').hidden = call.ivr_data.length > 0;
    renderHistory(call.history);
    say('pop-repeat', call.recent_summary); // "Called 3 times in the last 7 days ..."
    $('pop-repeat').hidden = !call.recent_summary;
    $('wrapup').hidden = !WRAP_PHASES.has(call.phase);
    $('control').hidden = call.phase !== 'talking';
    showHold(call.on_hold);
    if (fresh) {
      say('desk-status', ''); // the last call's "wrap-up saved" belongs to that call
      $('disposition').value = call.disposition || '';
      $('notes').value = call.notes || '';
      say('wrapup-status', '');
      $('cb-number').value = call.caller || '';
      say('callback-status', '');
    }
    tick();
  }

  // A callback's screen pop says so, and why: kept their place, or booked for a time.
  function callbackReason(call) {
    const data = Object.fromEntries(call.ivr_data.map((e) => [e.key, e.value]));
    if (data.callback === 'keep-place') return `kept their place in line; calling ${data['callback.number'] || ''}`;
    if (data.callback === 'scheduled') return `booked for ${data['callback.booked_for'] || 'now'}; calling ${data['callback.number'] || ''}`;
    return '';
  }

  function clearPop() {
    pop = null;
    delete root.dataset.callId;
    $('pop').hidden = true;
    $('no-call').hidden = false;
  }

  function tick() {
    say('in-state', since === null ? DASH : duration(server.now() - since));
    const cell = $('waited');
    if (pop && cell) {
      const seconds = waited(pop);
      cell.textContent = seconds === null ? '' : duration(seconds);
    }
  }

  async function refresh() {
    try {
      const desk = await api('/api/desktop/current');
      server.sync(desk.now);
      setState(desk.state, desk.reason, desk.since);
      if (desk.call) renderPop(desk.call); else clearPop();
      say('desk-error', '');
    } catch (error) {
      say('desk-error', `Could not load the desktop: ${error.message}`);
    }
  }

  // Several messages arrive together around a call; one snapshot covers them.
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 150);
  }

  function onMessage(topic, message) {
    if (message.agent !== agent) return;
    if (topic === 'desktop' && message.type === 'ScreenPop') {
      renderPop(message.pop);
    } else if (topic === 'agents' && message.type === 'AgentStateChanged') {
      setState(message.state, message.reason, message.at);
      refreshSoon();
    } else if (topic === 'desktop') {
      refreshSoon();
    }
  }

  async function changeState(action, reason = '') {
    say('desk-error', '');
    try {
      const status = await api(`/api/agents/${encodeURIComponent(agent)}/state`, {
        method: 'POST', body: JSON.stringify({ action, reason }),
      });
      setState(status.state, status.reason, status.since);
    } catch (error) {
      say('desk-error', `Could not ${action}: ${error.message}`);
    }
  }

  // Call control: hold, resume, blind transfer (the API answers for the agent's own call).
  function showHold(onHold) {
    $('btn-hold').disabled = onHold;
    $('btn-resume').disabled = !onHold;
    say('hold-status', onHold ? 'On hold: the caller hears music.' : '');
  }

  async function control(path, body, statusId) {
    say(statusId, '');
    try {
      return await api(`/api/desktop/${path}`, { method: 'POST', body: JSON.stringify(body) });
    } catch (error) {
      say(statusId, `Not done: ${error.message}`);
      return null;
    }
  }

  $('btn-hold').addEventListener('click', async () => {
    const done = await control('hold', {}, 'hold-status');
    if (done) showHold(done.on_hold);
  });
  $('btn-resume').addEventListener('click', async () => {
    const done = await control('resume', {}, 'hold-status');
    if (done) showHold(done.on_hold);
  });
  $('btn-end').addEventListener('click', async () => {
    // The caller's leg is hung up; an always-connected agent keeps their line.
    if (await control('hangup', {}, 'hold-status')) say('hold-status', 'Call ended.');
  });
  const TARGETS = { queue: 'xfer-queue', agent: 'xfer-agent', number: 'xfer-number' };
  const showTarget = () => {
    for (const [to, id] of Object.entries(TARGETS)) $(id).disabled = $('xfer-to').value !== to;
  };
  $('xfer-to').addEventListener('change', showTarget);
  showTarget();
  $('control').addEventListener('submit', async (event) => {
    event.preventDefault();
    const to = $('xfer-to').value;
    const target = $(TARGETS[to]).value.trim();
    if (!target) {
      say('transfer-status', 'Choose where to transfer first.');
      return;
    }
    $('btn-transfer').disabled = true;
    const done = await control('transfer', {
      to, target, reason: $('xfer-reason').value, note: $('xfer-note').value,
    }, 'transfer-status');
    $('btn-transfer').disabled = false;
    if (done) {
      say('desk-status', `Transferred to ${to} ${target}.`);
      $('xfer-reason').value = '';
      $('xfer-note').value = '';
      refreshSoon();
    }
  });

  // Consultation: hold the caller and call the agent, queue or number chosen above; then complete (the
  // caller goes on with them), cancel (back to the caller), or a three-way conference
  // that the agent may leave.
  function showConsult(phase) { // '' | 'consulting' | 'conference'
    $('btn-consult').disabled = phase !== '';
    $('btn-consult-complete').disabled = phase !== 'consulting';
    $('btn-consult-cancel').disabled = phase !== 'consulting';
    $('btn-conference').disabled = phase !== 'consulting';
    $('btn-conference-leave').disabled = phase !== 'conference';
  }
  showConsult('');
  $('btn-consult').addEventListener('click', async () => {
    // The target chosen above: an agent, a queue (its first free agent) or a number.
    const to = $('xfer-to').value;
    const target = $(TARGETS[to]).value.trim();
    if (!target) {
      say('consult-status', 'Choose whom to consult first.');
      return;
    }
    const done = await control('consult', { to, target }, 'consult-status');
    if (done) {
      showHold(true);
      showConsult('consulting');
      say('consult-status', `Calling ${target}; the caller hears music.`);
    }
  });
  const ends = {
    'btn-consult-complete': ['consult/complete', 'Transferred: the caller is with them now.', ''],
    'btn-consult-cancel': ['consult/cancel', 'Cancelled: back with the caller.', ''],
    'btn-conference': ['consult/conference', 'Conference: the three of you.', 'conference'],
    'btn-conference-leave': ['conference/leave', 'You left; they go on.', ''],
  };
  for (const [id, [path, message, next]] of Object.entries(ends)) {
    $(id).addEventListener('click', async () => {
      const body = path === 'consult/complete' || path === 'conference/leave'
        ? { reason: $('xfer-reason').value } : {};
      const done = await control(path, body, 'consult-status');
      if (done) {
        showHold(done.on_hold);
        showConsult(next);
        say('consult-status', message);
        refreshSoon();
      }
    });
  }

  $('btn-ready').addEventListener('click', () => changeState('ready'));
  $('btn-pause').addEventListener('click', () => changeState('pause', $('pause-reason').value));
  $('btn-logout').addEventListener('click', () => changeState('logout'));

  $('wrapup').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!pop) return;
    const disposition = $('disposition').value;
    if (!disposition) {
      say('wrapup-status', 'Choose a disposition first.');
      $('disposition').focus();
      return;
    }
    $('btn-save').disabled = true;
    try {
      const saved = await api(`/api/desktop/calls/${encodeURIComponent(pop.call_id)}/wrapup`, {
        method: 'POST', body: JSON.stringify({ disposition, notes: $('notes').value }),
      });
      say('wrapup-status', `Saved: ${saved.disposition_label}`);
      say('desk-status', `Wrap-up saved for the call from ${pop.caller || 'an unknown number'}: ${saved.disposition_label}.`);
      refreshSoon();
    } catch (error) {
      say('wrapup-status', `Not saved: ${error.message}`);
    } finally {
      $('btn-save').disabled = false;
    }
  });

  $('callback').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!pop) return;
    const when = new Date($('cb-at').value);
    if (Number.isNaN(when.getTime())) {
      say('callback-status', 'Choose a date and time first.');
      return;
    }
    $('btn-callback').disabled = true;
    try {
      const booked = await api('/api/callbacks', {
        method: 'POST',
        body: JSON.stringify({
          queue: pop.queue, number: $('cb-number').value, at: when.toISOString(), call_id: pop.call_id,
        }),
      });
      say('callback-status', `Booked: ${booked.number} at ${new Date(booked.due_at * 1000).toLocaleString()}`);
    } catch (error) {
      say('callback-status', `Not booked: ${error.message}`);
    } finally {
      $('btn-callback').disabled = false;
    }
  });

  live(['desktop', 'agents'], onMessage, refresh);
  setInterval(tick, 1000);
})();
