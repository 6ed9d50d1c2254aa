// The reports page's "Forecast and staffing" section: asks /api/reports/staffing for
// the chosen queue, fills the table with every interval that has calls forecast (or
// agents logged in), and points the CSV link at the same query.
(() => {
  const form = document.getElementById('staffing-form');
  const summary = document.getElementById('staffing-summary');
  const say = (text, isError = false) => {
    summary.textContent = text;
    summary.classList.toggle('error', isError);
  };
  const pct = (v) => percent(v, 1);
  const mmss = (v) => duration(v, { round: true, hours: 'never' });
  const num = (v, digits = 1) => (v === null || v === undefined ? DASH : Number(v).toFixed(digits));
  const row = (values) => el('tr', {}, ...values.map((v, i) => el(i ? 'td' : 'th', i ? { textContent: v } : { scope: 'row', textContent: v })));

  function query() {
    const data = new FormData(form);
    const params = new URLSearchParams({
      queue: data.get('queue'),
      days: data.get('days'),
      interval: data.get('interval'),
      weeks: data.get('weeks'),
      level: String(Number(data.get('level')) / 100),
      max_occupancy: String(Number(data.get('max_occupancy')) / 100),
    });
    if (data.get('patience')) params.set('patience', data.get('patience'));
    return params;
  }

  function describe(report) {
    const error = report.forecast_error;
    const measured = error === null
      ? 'Too little history to measure the forecast (it needs more than a week).'
      : `Forecast error on the last week seen (forecast from the weeks before it): WAPE ${pct(error.wape)}, `
        + `MAPE ${pct(error.mape)}, per day ${pct(error.daily_wape)} over ${error.actual_calls} calls.`;
    const patience = report.patience_seconds === null
      ? 'Patience: too few abandoned calls to measure it, so no Erlang A.'
      : `Patience: ${mmss(report.patience_seconds)} (${report.patience_measured ? 'measured' : 'given'}).`;
    return `${report.queue}: ${report.history_days} days of history, ${report.interval}-minute intervals `
      + `(${report.timezone}), goal ${pct(report.level)} within ${report.target_seconds} s. ${measured} ${patience}`;
  }

  async function show() {
    if (!form.reportValidity()) return;
    const params = query();
    document.getElementById('staffing-csv').href = `/api/reports/staffing.csv?${params}`;
    say('Loading…');
    let report;
    try {
      report = await request(`/api/reports/staffing?${params}`);
    } catch (error) {
      say(`No forecast: ${describeError(error)}`, true);
      return;
    }
    const shown = report.intervals.filter((i) => i.calls > 0 || i.logged_in || i.logged_in_week_before);
    const body = document.getElementById('staffing-table').tBodies[0];
    body.replaceChildren(...shown.map((i) => row([
      i.start.slice(0, 16).replace('T', ' '), num(i.calls), mmss(i.aht_seconds), num(i.traffic_erlangs, 2),
      i.agents_erlang_c, pct(i.service_level_erlang_c), mmss(i.asa_seconds_erlang_c),
      i.agents_erlang_a ?? DASH, pct(i.service_level_erlang_a), pct(i.abandon_rate_erlang_a),
      num(i.logged_in), num(i.logged_in_week_before),
    ])));
    if (!shown.length) body.append(el('tr', {}, el('td', { colSpan: 12, className: 'rp-empty', textContent: 'No calls forecast and nobody logged in over these days.' })));
    say(describe(report));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    show();
  });
  if (form.elements.queue.value) show();
})();
