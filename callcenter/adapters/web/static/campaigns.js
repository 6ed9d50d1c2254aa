// Campaigns pages: create, settings, status, CSV import with a progress bar, DNC.
(function () {
  const $ = (selector) => document.querySelector(selector);
  const say = (id, text, bad = false) => {
    const element = $(id);
    element.textContent = text;
    element.classList.toggle('cp-error', bad);
  };
  const refusedIn = (id) => (error) => say(id, describeError(error), true);

  const create = $('#cp-create');
  if (create) {
    onSubmit(create, async () => {
      const form = new FormData(create);
      const settings = {};
      for (const key of ['mode', 'queue', 'default_timezone', 'abandon_rule', 'amd_action']) {
        if (form.get(key)) settings[key] = form.get(key);
      }
      const made = await request('/api/campaigns', {
        method: 'POST', body: JSON.stringify({ name: form.get('name'), settings }),
      });
      window.location.href = `/campaigns/${made.id}`;
    }, refusedIn('#cp-create-message'));
  }

  const holder = $('#cp-campaign');
  if (!holder) return;
  const id = holder.dataset.id;

  async function figures() {
    try {
      const found = await request(`/api/campaigns/${id}/progress`);
      $('#cp-status').textContent = found.campaign.status;
      fillDefinitions($('#cp-figures'), [
        ['Leads', Object.entries(found.leads).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'],
        ['Attempts', found.attempts], ['Answered by a person', found.live_answered],
        ['Connected to an agent', found.connected],
        ['Abandoned', `${found.abandoned} (${found.abandon_rate_pct} % of live answers; cap ${found.abandon_cap_pct} %)`],
        ['Over', `${Math.round(found.window_seconds / 3600)} hours`],
      ]);
    } catch (error) {
      say('#cp-import-message', describeError(error), true);
    }
  }

  function showImport(found) {
    const bar = $('#cp-progress');
    bar.hidden = false;
    bar.value = found.percent;
    const words = `${found.filename}: ${found.status}, ${found.rows} rows read, ` +
      `${found.good} imported, ${found.bad} not imported (${found.percent} %)`;
    say('#cp-import-message', found.warning ? `${words}. ${found.warning}` : words,
      found.status === 'refused' || found.status === 'interrupted');
    const table = $('#cp-bad-rows');
    const body = table.querySelector('tbody');
    body.replaceChildren();
    for (const row of found.errors) {
      const line = document.createElement('tr');
      for (const value of [row.line, row.reason, row.text]) {
        const cell = document.createElement('td');
        cell.textContent = String(value);
        line.append(cell);
      }
      body.append(line);
    }
    table.hidden = found.errors.length === 0;
  }

  async function follow(importId) {
    const found = await request(`/api/lead-imports/${importId}`);
    showImport(found);
    if (found.status === 'running') {
      setTimeout(() => follow(importId), 500);
    } else {
      figures();
    }
  }

  onSubmit($('#cp-upload'), async (event) => {
    const file = event.target.elements.file.files[0];
    if (!file) return;
    const started = await request(
      `/api/campaigns/${id}/imports?filename=${encodeURIComponent(file.name)}`,
      { method: 'POST', body: file, headers: { 'Content-Type': 'text/csv' } },
    );
    showImport(started);
    follow(started.id);
  }, refusedIn('#cp-import-message'));

  for (const button of document.querySelectorAll('[data-status]')) {
    button.addEventListener('click', async () => {
      try {
        await request(`/api/campaigns/${id}/status`, {
          method: 'POST', body: JSON.stringify({ status: button.dataset.status }),
        });
        figures();
      } catch (error) {
        say('#cp-import-message', describeError(error), true);
      }
    });
  }

  onSubmit($('#cp-dnc'), async (event) => {
    const form = event.target.elements;
    const numbers = form.numbers.value.split('\n').map((n) => n.trim()).filter(Boolean);
    const body = { numbers };
    if (!form.site.checked) body.campaign_id = Number(id);
    const added = await request('/api/dnc', { method: 'POST', body: JSON.stringify(body) });
    say('#cp-dnc-message', `${added.count} numbers added`);
    form.numbers.value = '';
  }, refusedIn('#cp-dnc-message'));

  onSubmit($('#cp-settings'), async (event) => {
    let settings;
    try {
      settings = JSON.parse(event.target.elements.settings.value);
    } catch (error) {
      throw new Error(`not JSON: ${error.message}`);
    }
    await request(`/api/campaigns/${id}/settings`, { method: 'PUT', body: JSON.stringify({ settings }) });
    say('#cp-settings-message', 'saved');
  }, refusedIn('#cp-settings-message'));

  figures();
  setInterval(() => { if (!document.hidden) figures(); }, 5000);  // the dialer moves them
  request(`/api/lead-imports?campaign_id=${id}`).then((found) => {
    if (found.imports.length) {
      showImport(found.imports[0]);
      if (found.imports[0].status === 'running') follow(found.imports[0].id);
    }
  });
})();
