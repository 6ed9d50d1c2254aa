// The reports page: asks /api/reports/{queues,agents,estimates,dial-refusals} for the chosen period,
// fills the tables, points the CSV links at the same query, and draws the
// charts as inline SVG. Every number shown comes from the API as it is.
(() => {
  const form = document.getElementById('report-form');
  const message = document.getElementById('report-message');

  const say = (text, isError = false) => {
    message.textContent = text;
    message.classList.toggle('error', isError);
  };

  // -- formatting ------------------------------------------------------------------------
  const pct = (v) => percent(v, 1);
  const mmss = (v) => duration(v, { round: true, hours: 'never' }); // handle times: 75:00
  const hms = (v) => duration(v, { round: true, hours: 'always' }); // time in a state: 0:05:00
  const slot = (start, oneDay) => (oneDay ? start.slice(11, 16) : start.slice(0, 16).replace('T', ' '));
  const cells = (values) => values.map((v, i) => el(i ? 'td' : 'th', i ? { textContent: v } : { scope: 'row', textContent: v }));
  const row = (values) => el('tr', {}, ...cells(values));

  // -- the query: the form's values, also used for the CSV links ----------------------------
  function query(kind) {
    const data = new FormData(form);
    const params = new URLSearchParams({ from: data.get('from'), to: data.get('to'), interval: data.get('interval') });
    const only = kind === 'queues' ? data.get('queue') : data.get('agent');
    if (only) params.set(kind === 'queues' ? 'queue' : 'agent', only);
    return params;
  }

  async function show() {
    if (!form.reportValidity()) return;
    say('Loading…');
    const queuesQuery = query('queues');
    const agentsQuery = query('agents');
    document.getElementById('report-queues-csv').href = `/api/reports/queues.csv?${queuesQuery}`;
    document.getElementById('report-agents-csv').href = `/api/reports/agents.csv?${agentsQuery}`;
    const estimatesQuery = query('queues');
    estimatesQuery.delete('interval');
    let queues;
    let agents;
    let estimates;
    let refusals;
    const refusalsQuery = new URLSearchParams({ from: estimatesQuery.get('from'), to: estimatesQuery.get('to') });
    try {
      [queues, agents, estimates, refusals] = await Promise.all([
        request(`/api/reports/queues?${queuesQuery}`),
        request(`/api/reports/agents?${agentsQuery}`),
        request(`/api/reports/estimates?${estimatesQuery}`),
        request(`/api/reports/dial-refusals?${refusalsQuery}`),
      ]);
    } catch (error) {
      say(`No report: ${describeError(error)}`, true);
      return;
    }
    const oneDay = form.elements.from.value === form.elements.to.value;
    fillQueues(queues, oneDay);
    fillAgents(agents, oneDay);
    fillEstimates(estimates);
    fillRefusals(refusals);
    drawVolume(queues, oneDay);
    drawOccupancy(agents);
    say(`${queues.period.start.replace('T', ' ')} to ${queues.period.end.replace('T', ' ')} (${queues.period.timezone}), `
      + `${queues.period.interval}-minute intervals.`);
  }

  // -- tables ------------------------------------------------------------------------------
  const queueCells = (name, f, target) => [
    name, f.offered, f.answered, f.abandoned, f.overflowed, pct(f.service_level),
    target === null ? DASH : `${target} s`, mmss(f.asa_seconds), mmss(f.aht_seconds), pct(f.abandon_rate),
    f.transfers, f.holds, hms(f.hold_seconds),
  ];

  function fillQueues(report, oneDay) {
    const table = document.getElementById('report-queues');
    const body = table.tBodies[0];
    body.replaceChildren(...report.queues.map((q) => row(queueCells(q.queue, q.totals, q.target_seconds))));
    if (!report.queues.length) body.append(el('tr', {}, el('td', { colSpan: 13, className: 'rp-empty', textContent: 'No calls entered a queue in this period.' })));
    table.tFoot.replaceChildren(row(queueCells('All queues', report.totals, null)));
    const intervals = document.getElementById('report-queue-intervals').tBodies[0];
    intervals.replaceChildren(...report.queues.flatMap((q) => q.intervals
      .filter((i) => i.offered || i.waiting)
      .map((i) => row([q.queue, slot(i.start, oneDay), i.offered, i.answered, i.abandoned,
        pct(i.service_level), mmss(i.asa_seconds), mmss(i.aht_seconds)]))));
  }

  const agentCells = (name, f) => [
    name, f.offered, f.answered, f.missed, f.handled, mmss(f.aht_seconds), hms(f.ready_seconds),
    hms(f.on_call_seconds), hms(f.wrap_up_seconds), hms(f.paused_seconds), pct(f.occupancy),
    f.transfers, f.holds, hms(f.hold_seconds),
  ];

  function fillAgents(report, oneDay) {
    const table = document.getElementById('report-agents');
    const body = table.tBodies[0];
    body.replaceChildren(...report.agents.map((a) => row(agentCells(a.agent, a.totals))));
    if (!report.agents.length) body.append(el('tr', {}, el('td', { colSpan: 14, className: 'rp-empty', textContent: 'No agent was logged in or took calls in this period.' })));
    table.tFoot.replaceChildren(row(agentCells('All agents', report.totals)));
    const busy = (i) => i.offered || i.answered || i.ready_seconds || i.on_call_seconds || i.wrap_up_seconds || i.paused_seconds;
    const intervals = document.getElementById('report-agent-intervals').tBodies[0];
    intervals.replaceChildren(...report.agents.flatMap((a) => a.intervals.filter(busy)
      .map((i) => row([a.agent, slot(i.start, oneDay), i.offered, i.answered, i.missed,
        mmss(i.aht_seconds), hms(i.ready_seconds), hms(i.on_call_seconds), pct(i.occupancy)]))));
  }

  const estimateCells = (name, f) => [
    name, f.estimates, pct(f.median_error), pct(f.p90_error), f.reliable,
    pct(f.reliable_median_error), pct(f.reliable_p90_error),
  ];

  function fillEstimates(report) {
    const table = document.getElementById('report-estimates');
    const body = table.tBodies[0];
    body.replaceChildren(...report.queues.map((q) => row(estimateCells(q.queue, q))));
    if (!report.queues.length) body.append(el('tr', {}, el('td', { colSpan: 7, className: 'rp-empty', textContent: 'No caller who got an estimate reached an agent in this period.' })));
    table.tFoot.replaceChildren(row(estimateCells('All queues', report.totals)));
  }

  function fillRefusals(report) {
    const table = document.getElementById('report-refusals');
    const body = table.tBodies[0];
    body.replaceChildren(...report.reasons.map((r) => row([r.reason, r.count])));
    if (!report.reasons.length) body.append(el('tr', {}, el('td', { colSpan: 2, className: 'rp-empty', textContent: 'No number was refused in this period.' })));
    table.tFoot.replaceChildren(row(['All reasons', report.total]));
  }

  // -- charts ------------------------------------------------------------------------------
  const W = 760; const H = 260; const L = 40; const R = 44; const T = 24; const B = 28;

  // Every queue's intervals are the same slots; with no queue chosen the chart
  // adds the queues up (service level from the summed counts, as the totals are).
  function perInterval(report) {
    const slots = report.queues.length ? report.queues[0].intervals.map((i) => ({ start: i.start, offered: 0, answered: 0, abandoned: 0, within: 0 })) : [];
    for (const q of report.queues) {
      q.intervals.forEach((i, n) => {
        slots[n].offered += i.offered;
        slots[n].answered += i.answered;
        slots[n].abandoned += i.abandoned;
        slots[n].within += i.answered_within_target;
      });
    }
    return slots;
  }

  function axis(parts, max, y) {
    for (let k = 0; k <= 4; k += 1) {
      const v = (max * k) / 4;
      parts.push(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      parts.push(svg('text', { class: 'axis', x: L - 4, y: y(v) + 4, 'text-anchor': 'end' }, String(Math.round(v * 10) / 10)));
      parts.push(svg('text', { class: 'axis', x: W - R + 4, y: T + (H - T - B) * (1 - k / 4) + 4 }, `${k * 25}%`));
    }
  }

  function legend(parts, items) {
    items.forEach(([cls, label], n) => {
      const x = L + n * 110;
      parts.push(svg('rect', { class: cls, x, y: 6, width: 10, height: 10 }));
      parts.push(svg('text', { class: 'legend', x: x + 14, y: 15 }, label));
    });
  }

  function drawVolume(report, oneDay) {
    const chart = document.getElementById('report-chart-volume');
    const slots = perInterval(report);
    const parts = [];
    const max = Math.max(1, ...slots.map((s) => s.offered));
    const y = (v) => T + (H - T - B) * (1 - v / max);
    const ySl = (v) => T + (H - T - B) * (1 - v);
    const band = slots.length ? (W - L - R) / slots.length : 0;
    axis(parts, max, y);
    legend(parts, [['offered', 'Offered'], ['answered', 'Answered'], ['abandoned', 'Abandoned'], ['sl-dot', 'Service level']]);
    const bar = Math.max(0.5, (band * 0.8) / 3);
    const every = Math.max(1, Math.ceil(slots.length / 12));
    const line = [];
    slots.forEach((s, n) => {
      const x0 = L + n * band + band * 0.1;
      const label = slot(s.start, oneDay);
      [['offered', s.offered], ['answered', s.answered], ['abandoned', s.abandoned]].forEach(([cls, v], k) => {
        if (!v) return;
        const rect = svg('rect', { class: cls, x: x0 + k * bar, y: y(v), width: bar, height: y(0) - y(v) });
        rect.append(svg('title', {}, `${label}: ${v} ${cls}`));
        parts.push(rect);
      });
      if (s.offered) {
        const sl = s.within / s.offered;
        const cx = L + n * band + band / 2;
        line.push(`${cx},${ySl(sl)}`);
        const dot = svg('circle', { class: 'sl-dot', cx, cy: ySl(sl), r: 3 });
        dot.append(svg('title', {}, `${label}: service level ${pct(sl)}`));
        parts.push(dot);
      }
      if (n % every === 0) parts.push(svg('text', { class: 'axis', x: L + n * band + band / 2, y: H - 8, 'text-anchor': 'middle' }, label));
    });
    if (line.length > 1) parts.push(svg('polyline', { class: 'sl', points: line.join(' ') }));
    if (!slots.some((s) => s.offered)) parts.push(svg('text', { class: 'legend', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'No calls offered in this period'));
    chart.replaceChildren(...parts);
  }

  function drawOccupancy(report) {
    const chart = document.getElementById('report-chart-occupancy');
    const agents = report.agents.filter((a) => a.totals.occupancy !== null);
    const parts = [];
    const left = 110;
    const rowHeight = agents.length ? Math.min(28, (H - T - B) / agents.length) : 0;
    const x = (v) => left + (W - left - R) * v;
    for (let k = 0; k <= 4; k += 1) {
      parts.push(svg('line', { class: 'grid', x1: x(k / 4), x2: x(k / 4), y1: T, y2: H - B }));
      parts.push(svg('text', { class: 'axis', x: x(k / 4), y: H - 8, 'text-anchor': 'middle' }, `${k * 25}%`));
    }
    agents.forEach((a, n) => {
      const top = T + n * rowHeight;
      const rect = svg('rect', { class: 'occupancy', x: left, y: top + rowHeight * 0.15, width: x(a.totals.occupancy) - left, height: rowHeight * 0.7 });
      rect.append(svg('title', {}, `${a.agent}: occupancy ${pct(a.totals.occupancy)}`));
      parts.push(rect);
      parts.push(svg('text', { class: 'axis', x: left - 6, y: top + rowHeight / 2 + 4, 'text-anchor': 'end' }, a.agent));
    });
    if (!agents.length) parts.push(svg('text', { class: 'legend', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'No agent was ready or busy in this period'));
    chart.replaceChildren(...parts);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    show();
  });
  show();
})();
