// The reports page's "Quality scores" section: on each report, asks /api/reports/qa
// for the same period, queue and agent and fills the two tables and the CSV link.
(() => {
  const form = document.getElementById('report-form');
  const score = (v) => (v === null ? DASH : `${v.toFixed(1)} %`);
  const row = (values) => el('tr', {}, ...values.map((v, i) => el(i ? 'td' : 'th', i ? { textContent: v } : { scope: 'row', textContent: v })));
  const figures = (f) => [f.evaluations, score(f.mean_score), score(f.min_score), score(f.max_score), f.critical_failures, f.acknowledged];
  const empty = () => el('tr', {}, el('td', { colSpan: 7, className: 'rp-empty', textContent: 'No evaluations of calls in this period.' }));

  function fill(id, rows) {
    const body = document.getElementById(id).tBodies[0];
    body.replaceChildren(...rows);
    if (!rows.length) body.append(empty());
  }

  async function show() {
    if (!form.checkValidity()) return;
    const data = new FormData(form);
    const params = new URLSearchParams({ from: data.get('from'), to: data.get('to') });
    for (const key of ['queue', 'agent']) if (data.get(key)) params.set(key, data.get(key));
    document.getElementById('qa-report-csv').href = `/api/reports/qa.csv?${params}`;
    let found;
    try {
      found = await request(`/api/reports/qa?${params}`);
    } catch (error) {
      fill('qa-report-agents', []);
      return;
    }
    fill('qa-report-agents', found.agents.map((a) => row([a.name, ...figures(a)])));
    document.getElementById('qa-report-agents').tFoot.replaceChildren(row(['All', ...figures(found.totals)]));
    fill('qa-report-queues', found.queues.map((q) => row([q.name || '(none)', ...figures(q)])));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    show();
  });
  show();
})();
