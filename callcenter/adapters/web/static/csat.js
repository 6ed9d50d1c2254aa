// The reports page's "Post-call survey (CSAT)" section: on each report, asks
// /api/reports/csat for the same period, interval, queue and agent and fills its tables.
(() => {
  const form = document.getElementById('report-form');
  const pct = (v) => percent(v, 1);
  const row = (values) => el('tr', {}, ...values.map((v, i) => el(i ? 'td' : 'th', i ? { textContent: v } : { scope: 'row', textContent: v })));
  const figures = (f) => [f.offered, f.responded, pct(f.response_rate), f.ratings, pct(f.csat), f.mean_score ?? '–'];
  const empty = (columns) => el('tr', {}, el('td', { colSpan: columns, className: 'rp-empty', textContent: 'No surveys offered in this period.' }));

  function fill(id, rows, columns) {
    const body = document.getElementById(id).tBodies[0];
    body.replaceChildren(...rows);
    if (!rows.length) body.append(empty(columns));
  }

  async function show() {
    if (!form.checkValidity()) return;
    const data = new FormData(form);
    const params = new URLSearchParams({ from: data.get('from'), to: data.get('to'), interval: data.get('interval') });
    for (const name of ['queue', 'agent']) if (data.get(name)) params.set(name, data.get(name));
    document.getElementById('csat-csv').href = `/api/reports/csat.csv?${params}`;
    let found;
    try {
      found = await request(`/api/reports/csat?${params}`);
    } catch (error) {
      fill('csat-queues', [], 7);
      return;
    }
    fill('csat-queues', found.queues.map((q) => row([q.queue, ...figures(q)])), 7);
    document.getElementById('csat-queues').tFoot.replaceChildren(row(['All queues', ...figures(found.totals)]));
    fill('csat-agents', found.agents.map((a) => row([a.agent, ...figures(a)])), 7);
    fill('csat-dispositions', found.dispositions.map((d) => row([d.disposition || '(none)', ...figures(d)])), 7);
    const busy = found.intervals.filter((i) => i.offered > 0);
    fill('csat-intervals', busy.map((i) => row([`${i.start.slice(0, 16).replace('T', ' ')}–${i.end.slice(11, 16)}`, ...figures(i)])), 7);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    show();
  });
  show();
})();
