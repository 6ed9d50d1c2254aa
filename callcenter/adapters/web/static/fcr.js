// The reports page's "First-contact resolution" section: on each report, asks
// /api/reports/fcr for the same period and queue and fills the three tables.
(() => {
  const form = document.getElementById('report-form');
  const pct = (v) => percent(v, 1);
  const row = (values) => el('tr', {}, ...values.map((v, i) => el(i ? 'td' : 'th', i ? { textContent: v } : { scope: 'row', textContent: v })));
  const figures = (f) => [f.answered, f.repeated, f.pending, pct(f.fcr)];
  const empty = (columns) => el('tr', {}, el('td', { colSpan: columns, className: 'rp-empty', textContent: 'No answered calls in this period.' }));

  function fill(id, rows, columns) {
    const body = document.getElementById(id).tBodies[0];
    body.replaceChildren(...rows);
    if (!rows.length) body.append(empty(columns));
  }

  async function show() {
    if (!form.checkValidity()) return;
    const data = new FormData(form);
    const params = new URLSearchParams({ from: data.get('from'), to: data.get('to') });
    if (data.get('queue')) params.set('queue', data.get('queue'));
    let found;
    try {
      found = await request(`/api/reports/fcr?${params}`);
    } catch (error) {
      fill('fcr-queues', [], 6);
      return;
    }
    fill('fcr-queues', found.queues.map((q) => row([q.name, `${q.window_hours} h`, ...figures(q)])), 6);
    document.getElementById('fcr-queues').tFoot.replaceChildren(row(['All queues', '', ...figures(found.totals)]));
    fill('fcr-agents', found.agents.map((a) => row([a.name || '(none)', ...figures(a)])), 5);
    fill('fcr-dispositions', found.dispositions.map((d) => row([d.name || '(none)', ...figures(d)])), 5);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    show();
  });
  show();
})();
