// The supervisor page: every agent, their state and call, live; force a state;
// listen, whisper or barge from the supervisor's own phone.
(() => {
  const table = document.getElementById('sv-agents');
  const body = table.querySelector('tbody');
  const message = document.getElementById('sv-message');
  const spyBox = document.getElementById('sv-spy');
  const spyText = document.getElementById('sv-spy-text');
  const reasons = JSON.parse(document.getElementById('sv-reasons').textContent);
  const myPhone = table.dataset.phone;
  const LABELS = {
    logged_out: 'Logged out', ready: 'Ready', ringing: 'Ringing', on_call: 'On a call',
    wrap_up: 'Wrap-up', paused: 'Paused',
  };
  const MODES = [['listen', 'Listen'], ['whisper', 'Whisper'], ['barge', 'Barge']];
  const server = serverClock();
  let board = null;
  let openSpy = null;
  let ringing = false; // the message says "your phone is ringing"
  const chosenReason = {}; // kept across re-renders, which live events cause at any moment

  const clock = (seconds) => duration(seconds, { padMinutes: true }); // mm:ss on this page
  const say = (text, isError = false) => {
    message.textContent = text;
    message.classList.toggle('error', isError);
  };

  async function refresh() {
    try {
      board = await api('/api/supervisor/agents');
    } catch (error) {
      say(`Could not load the agents: ${error.message}`, true);
      return;
    }
    server.sync(board.now);
    openSpy = board.spy.find((s) => s.phone === myPhone && s.state !== 'ended') || null;
    render();
  }

  let pending = null;
  function refreshSoon() {
    // Bursts of live events (a call answered moves agent and call) make one reload.
    if (pending === null) pending = setTimeout(() => { pending = null; refresh(); }, 250);
  }

  function render() {
    body.replaceChildren(...board.agents.map(row));
    document.getElementById('sv-updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    spyBox.hidden = openSpy === null;
    if (ringing && (openSpy === null || openSpy.state === 'active')) {
      ringing = false; // answered (the box says so) or over: the prompt is stale
      say('');
    }
    if (openSpy) {
      const verb = { listen: 'Listening to', whisper: 'Whispering to', barge: 'Barged in on' }[openSpy.mode];
      spyText.textContent = openSpy.state === 'active'
        ? `${verb} ${openSpy.agent}.`
        : `Calling your phone to ${openSpy.mode} on ${openSpy.agent} (${openSpy.state})…`;
    }
  }

  function row(agent) {
    const call = agent.call;
    const since = el('td', { className: 'sv-since' }, clock(server.now() - agent.since));
    since.dataset.since = agent.since;
    const state = el('span', { className: 'sv-state' }, LABELS[agent.state] || agent.state);
    state.dataset.state = agent.state;
    const stateCell = el('td', {}, state);
    if (agent.reason) stateCell.append(` (${agent.reason})`);
    if (!agent.phone_registered) stateCell.append(el('div', { className: 'sv-muted' }, 'phone offline'));
    return el('tr', { id: `agent-${agent.agent}` },
      el('th', { scope: 'row' }, agent.name, el('div', { className: 'sv-muted' }, agent.agent)),
      stateCell,
      since,
      callCell(agent, call),
      el('td', {}, stateActions(agent)),
      el('td', {}, spyActions(agent)),
      el('td', {}, el('button', {
        type: 'button', textContent: 'Calls', onclick: () => showCalls(agent.agent),
        ariaLabel: `Calls today for ${agent.name}`,
      })));
  }

  function callCell(agent, call) {
    if (!call) return el('td', { className: 'sv-muted' }, agent.on_phone ? 'on the phone' : '–');
    const who = call.caller_name ? `${call.caller_name} ${call.caller}` : call.caller || 'unknown';
    const cell = el('td', { className: 'sv-call' }, el('strong', {}, who), ` · ${call.queue || 'no queue'}`);
    if (call.since) {
      const since = el('span', { className: 'sv-since' }, clock(server.now() - call.since));
      since.dataset.since = call.since;
      cell.append(' · ', since);
    }
    return cell;
  }

  function stateActions(agent) {
    const box = el('div', { className: 'sv-actions' });
    const loggedOut = agent.state === 'logged_out';
    box.append(el('button', {
      type: 'button', textContent: 'Ready', disabled: agent.state === 'ready',
      ariaLabel: `Make ${agent.name} ready`, onclick: () => setState(agent, { action: 'ready' }),
    }));
    const select = el('select', {
      ariaLabel: `Pause reason for ${agent.name}`,
      onchange: () => { chosenReason[agent.agent] = select.value; },
    }, ...reasons.map((r) => el('option', { value: r, textContent: r })));
    if (chosenReason[agent.agent]) select.value = chosenReason[agent.agent];
    box.append(select, el('button', {
      type: 'button', textContent: 'Pause', disabled: loggedOut,
      ariaLabel: `Pause ${agent.name}`,
      onclick: () => setState(agent, { action: 'pause', reason: select.value }),
    }));
    box.append(el('button', {
      type: 'button', textContent: 'Log out', disabled: loggedOut,
      ariaLabel: `Log out ${agent.name}`, onclick: () => setState(agent, { action: 'logout' }),
    }));
    return box;
  }

  function spyActions(agent) {
    const box = el('div', { className: 'sv-actions' });
    const possible = myPhone && agent.on_phone && agent.agent !== myPhone && openSpy === null;
    for (const [mode, label] of MODES) {
      box.append(el('button', {
        type: 'button', textContent: label, disabled: !possible,
        ariaLabel: `${label} on ${agent.name}'s call`, onclick: () => spy(agent, mode),
      }));
    }
    return box;
  }

  async function setState(agent, change) {
    try {
      await api(`/api/agents/${encodeURIComponent(agent.agent)}/state`, {
        method: 'POST', body: JSON.stringify(change),
      });
      say(`${agent.name}: ${change.action}${change.reason ? ` (${change.reason})` : ''} done.`);
    } catch (error) {
      say(`${agent.name}: ${change.action} refused: ${error.message}`, true);
    }
    refresh();
  }

  async function spy(agent, mode) {
    try {
      const session = await api('/api/supervisor/spy', {
        method: 'POST', body: JSON.stringify({ agent: agent.agent, mode }),
      });
      say(`Your phone ${session.phone} is ringing: answer it to ${mode}.`);
      ringing = true;
    } catch (error) {
      say(`Could not ${mode}: ${error.message}`, true);
    }
    refresh();
  }

  document.getElementById('sv-spy-stop').addEventListener('click', async () => {
    if (!openSpy) return;
    try {
      await api(`/api/supervisor/spy/${encodeURIComponent(openSpy.id)}`, { method: 'DELETE' });
    } catch (error) {
      say(`Could not hang up: ${error.message}`, true);
    }
    refreshSoon();
  });

  async function showCalls(agent) {
    const section = document.getElementById('sv-calls');
    const rows = section.querySelector('tbody');
    let data;
    try {
      data = await api(`/api/supervisor/agents/${encodeURIComponent(agent)}/calls`);
    } catch (error) {
      say(`Could not load ${agent}'s calls: ${error.message}`, true);
      return;
    }
    document.getElementById('sv-calls-title').textContent = `Calls today (${data.day}): ${agent}`;
    rows.replaceChildren(...data.calls.map((c) => el('tr', {},
      el('td', {}, new Date(c.entered_at * 1000).toLocaleTimeString()),
      el('td', {}, c.caller_name ? `${c.caller_name} ${c.caller}` : c.caller),
      el('td', {}, c.queue),
      el('td', {}, c.outcome || 'in progress'),
      el('td', {}, clock(c.wait)),
      el('td', {}, clock(c.talk)),
      el('td', {}, c.disposition),
      el('td', {}, c.recording_id === null ? '–'
        : el('a', { href: `/recordings#rec-${c.recording_id}`, textContent: 'Play' })))));
    if (!data.calls.length) rows.append(el('tr', {}, el('td', { colSpan: 8, textContent: 'No calls today.' })));
    section.hidden = false;
    section.scrollIntoView({ behavior: 'smooth' });
  }

  // Times in state tick every second without asking the server.
  setInterval(() => {
    for (const cell of document.querySelectorAll('.sv-since')) {
      cell.textContent = clock(server.now() - Number(cell.dataset.since));
    }
  }, 1000);

  live(['agents', 'calls'], refreshSoon, refresh);
  refresh();
})();
