// The recordings page: search, page through results, play and download;
// admins also set the retention period and can run it now.
(() => {
  const form = document.getElementById('rc-search');
  const table = document.getElementById('rc-results');
  const rows = table.querySelector('tbody');
  const message = document.getElementById('rc-message');
  const audio = document.getElementById('rc-audio');
  const nowPlaying = document.getElementById('rc-now');
  const download = document.getElementById('rc-download');
  const zone = table.dataset.zone || undefined; // the site's time zone; the browser's if unset
  const PER_PAGE = 25;
  let page = 1;

  const say = (text, isError = false) => {
    message.textContent = text;
    message.classList.toggle('error', isError);
  };
  const when = (epoch) => new Date(epoch * 1000).toLocaleString(undefined, { timeZone: zone });
  const clock = (seconds) => duration(seconds, { round: true, hours: 'never' }); // 75:00, not 1:15:00
  const paused = (spans) => spans.map(([from, to]) => `${clock(from)}–${to === null ? 'end' : clock(to)}`).join(', ');

  async function search() {
    if (!form.reportValidity()) return;
    const query = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value) query.set(key, value);
    query.set('page', page);
    query.set('per_page', PER_PAGE);
    let result;
    try {
      result = await api(`/api/recordings?${query}`);
    } catch (error) {
      say(`Search failed: ${error.message}`, true);
      return;
    }
    say('');
    rows.replaceChildren(...result.items.map(row));
    if (!result.items.length) rows.append(el('tr', {}, el('td', { colSpan: 7, textContent: 'No recordings match.' })));
    const first = result.total ? (result.page - 1) * result.per_page + 1 : 0;
    const last = Math.min(result.total, result.page * result.per_page);
    document.getElementById('rc-range').textContent = `${first}–${last} of ${result.total}`;
    document.getElementById('rc-prev').disabled = result.page <= 1;
    document.getElementById('rc-next').disabled = last >= result.total;
  }

  function row(item) {
    return el('tr', { id: `rec-${item.id}` },
      el('td', {}, when(item.started_at)),
      el('td', {}, item.agent),
      el('td', {}, item.queue),
      el('td', {}, item.caller),
      el('td', { className: 'rc-num' }, item.duration === null ? 'recording…' : clock(item.duration)),
      el('td', {}, paused(item.paused) || '–'),
      el('td', {}, el('button', {
        type: 'button', textContent: 'Play', className: 'rc-play',
        ariaLabel: `Play the call from ${item.caller} to ${item.agent} at ${when(item.started_at)}`,
        onclick: () => play(item, true),
      }), ' ', el('a', { href: `/qa#rec-${item.id}`, textContent: 'Score', className: 'rc-score' })));
  }

  function play(item, start) {
    for (const current of rows.querySelectorAll('[aria-current]')) current.removeAttribute('aria-current');
    document.getElementById(`rec-${item.id}`)?.setAttribute('aria-current', 'true');
    nowPlaying.textContent = `${when(item.started_at)} · ${item.caller} → ${item.agent} (${item.queue})`;
    audio.src = `/api/recordings/${item.id}/audio`;
    download.href = `/api/recordings/${item.id}/download`;
    download.hidden = false;
    if (start) audio.play().catch((error) => say(`The browser could not play it: ${error.message}`, true));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    page = 1;
    search();
  });
  document.getElementById('rc-prev').addEventListener('click', () => { page -= 1; search(); });
  document.getElementById('rc-next').addEventListener('click', () => { page += 1; search(); });
  audio.addEventListener('error', () => say('This recording could not be loaded.', true));

  // /recordings#rec-42 (a link from the supervisor page) opens that recording in the player.
  async function openFromHash() {
    const id = /^#rec-(\d+)$/.exec(location.hash)?.[1];
    if (!id) return;
    try {
      play(await api(`/api/recordings/${id}`), false);
    } catch (error) {
      say(`Recording ${id}: ${error.message}`, true);
    }
  }

  // -- retention (admins) -----------------------------------------------------------------
  const retention = document.getElementById('rc-retention');
  if (retention) {
    const status = document.getElementById('rc-retention-status');
    const days = retention.elements.retention_days;
    const describe = (s) => {
      const last = s.last_run
        ? ` Last run ${when(s.last_run.started_at)}: ${s.last_run.removed.length} deleted.` : '';
      const next = s.next_run ? ` Next run ${when(s.next_run)}.` : '';
      return `Recordings are kept ${s.retention_days} days.${next}${last}`;
    };
    api('/api/recordings/retention').then((s) => {
      days.value = s.retention_days;
      status.textContent = describe(s);
    }).catch((error) => { status.textContent = `Retention: ${error.message}`; });
    retention.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const s = await api('/api/recordings/retention', {
          method: 'PUT', body: JSON.stringify({ retention_days: Number(days.value) }),
        });
        status.textContent = `Saved. ${describe(s)}`;
      } catch (error) {
        status.textContent = `Not saved: ${error.message}`;
      }
    });
    document.getElementById('rc-retention-run').addEventListener('click', async () => {
      if (!confirm(`Delete every recording older than ${days.value} days now?`)) return;
      try {
        const r = await api('/api/recordings/retention/run', { method: 'POST' });
        status.textContent = `Deleted ${r.removed.length} recordings and ${r.strays_deleted.length} stray files`
          + (r.errors.length ? `; ${r.errors.length} could not be deleted.` : '.');
        search();
      } catch (error) {
        status.textContent = `Not run: ${error.message}`;
      }
    });
  }

  window.addEventListener('hashchange', openFromHash);
  openFromHash();
  search();
})();
