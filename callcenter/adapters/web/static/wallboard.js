// The wallboard: load the picture, follow the pushes, count the clocks here, recover alone.
'use strict';
(() => {
  const STATES = { ready: 'Ready', ringing: 'Ringing', on_call: 'On call', wrap_up: 'Wrap-up', paused: 'Paused', logged_out: 'Logged out' };
  const STAFF = ['ready', 'ringing', 'on_call', 'wrap_up', 'paused'];
  const COLOURS = ['#38bdf8', '#f472b6', '#a3e635', '#fbbf24', '#c084fc', '#fb7185', '#2dd4bf', '#f97316'];
  const BIG = [['waiting', 'Calls waiting'], ['longest', 'Longest wait'], ['sl_today', 'Service level today'], ['sl_30', 'Service level, last 30 min']];
  const SMALL = [['offered', 'Offered'], ['answered', 'Answered'], ['abandoned', 'Abandoned'], ['overflowed', 'Overflowed'],
    ['within', 'In target'], ['abandon_rate', 'Abandon rate'], ['asa', 'ASA'], ['aht', 'AHT'],
    ['csat', 'CSAT today (responded / offered)'],
    ['transfers', 'Transfers'], ['holds', 'Holds']];
  const $ = (id) => document.getElementById(id);
  // Event-to-screen times in ms (server's "sent" to this page's DOM update), for the benchmark.
  const stats = (window.wallboardStats = { updates: 0, latencies: [] });
  let board = null; // the picture shown (its series complete)
  const server = serverClock();
  let source = null;
  let retry = 1000;
  let loading = null; // the snapshot request in flight
  let held = []; // pushes that arrived while it was in flight

  // Elements by attribute (data-*, aria-*, class), unlike common.js's el() by property.
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    node.append(...children);
    return node;
  }
  function put(node, text) { if (node.textContent !== text) node.textContent = text; }
  const secs = (x) => (x === null ? DASH : `${Math.round(x)} s`);

  function status(state) {
    const node = $('wb-status');
    node.dataset.state = state;
    put(node, { live: 'Live', reconnecting: 'Reconnecting…', connecting: 'Connecting…' }[state]);
  }

  // -- queue tiles -------------------------------------------------------------------------
  function tile(queue) {
    const big = el('div', { class: 'wb-big' });
    for (const [field, label] of BIG) big.append(el('div', { 'data-field': field }, el('span', { class: 'wb-v' }, DASH), el('span', { class: 'wb-l' }, label)));
    const small = el('dl', { class: 'wb-small' });
    for (const [field, label] of SMALL) small.append(el('dt', {}, label), el('dd', { 'data-field': field }, DASH));
    const staff = el('p', { class: 'wb-staff' });
    STAFF.forEach((state, i) => staff.append(i ? ' · ' : '', `${STATES[state]} `, el('b', { 'data-field': `agents_${state}` }, '0')));
    return el('article', { class: 'wb-tile', 'data-queue': queue, 'aria-label': `Queue ${queue}` }, el('h3', {}, queue), big, small, staff);
  }
  function fill(node, q) {
    const field = (name) => node.querySelector(`[data-field="${name}"]`);
    const big = (name) => field(name).querySelector('.wb-v');
    const t = q.today;
    put(big('waiting'), String(q.waiting));
    Object.assign(field('longest').dataset, { since: q.longest_wait_since ?? '', target: q.target_seconds });
    put(field('sl_today').querySelector('.wb-l'), `Service level today (answered in ${q.target_seconds} s)`);
    put(big('sl_today'), percent(t.service_level));
    put(big('sl_30'), percent(q.last_30_min.service_level));
    for (const name of ['offered', 'answered', 'abandoned', 'overflowed']) put(field(name), String(t[name]));
    put(field('within'), String(t.answered_within_target));
    put(field('abandon_rate'), percent(t.abandon_rate));
    put(field('asa'), secs(t.asa_seconds));
    put(field('aht'), duration(t.aht_seconds));
    put(field('transfers'), String(t.transfers));
    put(field('holds'), t.holds ? `${t.holds} (${duration(t.hold_seconds)})` : '0');
    for (const state of STAFF) put(field(`agents_${state}`), String(q.agents[state]));
    const survey = q.survey_today; // null: the queue has no post-call survey
    put(field('csat'), survey && survey.offered ? `${percent(survey.csat)} (${survey.responded}/${survey.offered})` : DASH);
  }
  function renderQueues() {
    const box = $('wb-queues');
    const tiles = new Map([...box.querySelectorAll('.wb-tile')].map((n) => [n.dataset.queue, n]));
    if (!board.queues.length) box.replaceChildren(el('p', { class: 'wb-empty' }, 'No queues are defined.'));
    else if (box.querySelector('.wb-empty')) box.replaceChildren();
    for (const q of board.queues) {
      const node = tiles.get(q.queue) || box.appendChild(tile(q.queue));
      tiles.delete(q.queue);
      fill(node, q);
    }
    for (const gone of tiles.values()) gone.remove();
  }

  // -- agents ------------------------------------------------------------------------------
  function renderAgents() {
    const body = $('wb-agents').tBodies[0];
    const shown = board.agents.filter((a) => a.state !== 'logged_out')
      .sort((a, b) => a.name.localeCompare(b.name) || a.agent.localeCompare(b.agent));
    const rows = new Map([...body.rows].map((r) => [r.dataset.agent, r]));
    shown.forEach((a, i) => {
      let row = rows.get(a.agent);
      if (!row) row = el('tr', { 'data-agent': a.agent }, el('th', { scope: 'row' }), el('td', {}, el('span', { class: 'wb-state' })), el('td'), el('td'), el('td'));
      rows.delete(a.agent);
      if (body.rows[i] !== row) body.insertBefore(row, body.rows[i] || null);
      const [name, state, reason, time, queue] = row.cells;
      put(name, a.name);
      state.firstChild.className = `wb-state ${a.state}`;
      put(state.firstChild, STATES[a.state] || a.state);
      put(reason, a.reason);
      time.dataset.since = a.since;
      put(queue, a.queue);
    });
    for (const gone of rows.values()) gone.remove();
    put($('wb-agents-summary'), `(${shown.length} logged in, ${board.agents.length - shown.length} logged out)`);
  }

  // -- which controller is active ([ha]: two controllers, one acting) -----------------------
  function renderController() {
    const node = $('wb-controller');
    node.hidden = !board.controller;
    if (!node.hidden) put(node, `Active controller: ${board.controller}`);
  }

  // -- Asterisk nodes ([[pbx.nodes]]): each node's link, up or down, since when --------------
  function renderNodes() {
    const list = $('wb-nodes');
    const nodes = board.nodes || [];
    list.hidden = !nodes.length; // a single box: nothing to say
    const items = new Map([...list.children].map((n) => [n.dataset.node, n]));
    for (const n of nodes) {
      let item = items.get(n.node);
      if (!item) item = list.appendChild(el('li', { 'data-node': n.node }, el('b'), ' ', el('span', { class: 'wb-node-state' }), ' ', el('time')));
      items.delete(n.node);
      item.dataset.up = n.up ? 'yes' : 'no';
      put(item.children[0], `Node ${n.node}`);
      put(item.children[1], n.up ? 'up' : 'DOWN');
      item.children[2].dataset.since = n.since;
    }
    for (const gone of items.values()) gone.remove();
  }

  // -- call records: behind while the database is away ------------------------------------
  function renderRecords() {
    const r = board.records;
    const node = $('wb-records');
    node.hidden = !(r && (r.behind || r.dropped));
    if (node.hidden) return;
    const parts = [];
    if (r.behind) {
      const journal = r.journal ? ` (${r.journal} in the journal)` : '';
      parts.push(el('strong', {}, 'Call records behind: '), `${r.waiting} events waiting for the database${journal}, for `,
        el('time', { 'data-since': r.since }, DASH), '. ');
    }
    if (r.dropped) parts.push(el('strong', {}, `${r.dropped} events lost`), ' (no room left to keep them). ');
    if (r.last_error) parts.push(el('span', { class: 'wb-error' }, r.last_error));
    node.replaceChildren(...parts);
  }

  // -- charts: one line per queue, the whole day on the x axis -------------------------------
  function chart(node, key, top, label) {
    const W = 640, H = 220, L = 40, R = 6, T = 8, B = 20;
    const lines = board.series.queues.map((s) => s[key]);
    const minutes = Math.max(1440, ...lines.map((points) => points.length));
    const x = (m) => L + ((W - L - R) * m) / minutes;
    const y = (v) => T + (H - T - B) * (1 - v / top);
    const parts = [];
    for (const v of [0, top / 2, top]) {
      parts.push(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      parts.push(svg('text', { class: 'axis', x: L - 4, y: y(v) + 4, 'text-anchor': 'end' }, label(v)));
    }
    for (let h = 0; h <= 24; h += 3) parts.push(svg('text', { class: 'axis', x: x(h * 60), y: H - 4, 'text-anchor': h === 24 ? 'end' : 'middle' }, `${String(h).padStart(2, '0')}h`));
    lines.forEach((points, i) => {
      let run = [];
      const colour = COLOURS[i % COLOURS.length];
      const flush = () => {
        // A lone point (e.g. the first minute with calls) draws no line: show it as a dot.
        if (run.length === 1) {
          const [cx, cy] = run[0].split(',');
          parts.push(svg('circle', { cx, cy, r: 3, fill: colour }));
        } else if (run.length) parts.push(svg('polyline', { stroke: colour, points: run.join(' ') }));
        run = [];
      };
      points.forEach((v, m) => (v === null ? flush() : run.push(`${x(m).toFixed(1)},${y(v).toFixed(1)}`)));
      flush();
    });
    node.replaceChildren(...parts);
  }
  function renderCharts() {
    const peak = Math.max(1, ...board.series.queues.flatMap((s) => s.waiting));
    const top = peak <= 4 ? peak : Math.ceil(peak / 4) * 4;
    chart($('wb-chart-sl'), 'service_level', 1, (v) => `${Math.round(v * 100)}%`);
    chart($('wb-chart-wait'), 'waiting', top, (v) => String(Math.round(v)));
    $('wb-legend').replaceChildren(...board.series.queues.map((s, i) => el('li', {}, el('span', { style: `background:${COLOURS[i % COLOURS.length]}` }), s.queue)));
  }

  function render() {
    renderQueues();
    renderAgents();
    renderCharts();
    renderRecords();
    renderController();
    renderNodes();
    put($('wb-updated'), new Date(board.at * 1000).toLocaleTimeString());
    tick();
  }

  // Clocks counted here from the start times the server sent.
  function tick() {
    const now = server.now();
    for (const cell of document.querySelectorAll('#wb-agents td[data-since]')) put(cell, duration(now - Number(cell.dataset.since)));
    for (const time of document.querySelectorAll('#wb-records time[data-since]')) put(time, duration(now - Number(time.dataset.since)));
    for (const time of document.querySelectorAll('#wb-nodes time[data-since]')) put(time, `for ${duration(now - Number(time.dataset.since))}`);
    for (const box of document.querySelectorAll('[data-field="longest"]')) {
      const since = box.dataset.since === '' ? null : Number(box.dataset.since);
      const waited = since === null ? 0 : now - since;
      put(box.querySelector('.wb-v'), duration(waited));
      box.classList.toggle('wb-late', waited > Number(box.dataset.target));
    }
  }

  // -- the picture and its updates -------------------------------------------------------
  function merge(msg) {
    const mine = new Map(board.series.queues.map((s) => [s.queue, s]));
    const start = msg.series.start;
    if (msg.day_start !== board.day_start || msg.series.queues.length !== mine.size) return false;
    for (const s of msg.series.queues) {
      const local = mine.get(s.queue);
      if (!local || local.waiting.length < start) return false;
      local.service_level.splice(start, Infinity, ...s.service_level);
      local.waiting.splice(start, Infinity, ...s.waiting);
    }
    return true;
  }
  function receive(msg) {
    if (loading) { held.push(msg); return; }
    if (!board || msg.at <= board.at) return; // the snapshot already holds it
    if (!merge(msg)) { load(); return; }
    board = { ...msg, series: board.series };
    render();
    stats.updates += 1;
    stats.latencies.push(Date.now() - msg.sent * 1000);
    if (stats.latencies.length > 1000) stats.latencies.shift();
  }
  function load() {
    loading = loading || (async () => {
      try {
        const response = await fetch('/api/wallboard', { credentials: 'same-origin', cache: 'no-store' });
        if (response.status === 401) { location.assign('/login?next=/wallboard'); return; }
        if (!response.ok) throw new Error(`wallboard: HTTP ${response.status}`);
        board = await response.json();
        server.sync(board.at);
        render();
        status(source && source.readyState === EventSource.OPEN ? 'live' : 'reconnecting');
      } catch (error) {
        status('reconnecting');
        setTimeout(() => { if (source && source.readyState === EventSource.OPEN) load(); }, 3000);
      } finally {
        loading = null;
        const later = held;
        held = [];
        later.forEach(receive);
      }
    })();
  }
  function connect() {
    source = new EventSource('/api/events?topics=wallboard');
    source.addEventListener('open', () => { retry = 1000; load(); });
    source.addEventListener('resync', load);
    source.addEventListener('wallboard', (e) => receive(JSON.parse(e.data)));
    source.addEventListener('error', () => {
      status('reconnecting');
      // The browser retries a dropped stream by itself; after an HTTP error it
      // gives up (CLOSED), so start again here, slower each time.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(() => { connect(); load(); }, retry);
        retry = Math.min(retry * 2, 30000);
      }
    });
  }

  connect();
  setInterval(tick, 1000);
})();
