// Outbound preview on the agent desktop: the next lead of the agent's preview
// campaigns, then Dial or Skip (/api/outbound/preview). Values go in with
// textContent only (lead fields come from imported files).
(() => {
  const root = document.getElementById('desktop');
  const panel = document.getElementById('preview');
  if (!root || !panel) return;
  const agent = encodeURIComponent(root.dataset.agent);
  const $ = (id) => document.getElementById(id);
  const base = `/api/outbound/preview/${agent}`;

  function show(lead) {
    const name = `${lead.first_name} ${lead.last_name}`.trim();
    fillDefinitions($('preview-lead'), [['Campaign', lead.campaign], ['Name', name],
      ['Number', lead.phone], ['Account', lead.account], ['Time zone', lead.timezone],
      ['Earlier attempts', lead.attempts], ...Object.entries(lead.data || {})]);
    $('preview-dial').disabled = false;
    $('preview-skip').disabled = false;
  }

  function idle(message) {
    $('preview-lead').replaceChildren();
    $('preview-dial').disabled = true;
    $('preview-skip').disabled = true;
    $('preview-status').textContent = message || '';
  }

  async function act(action) {
    $('preview-status').textContent = '';
    try {
      if (action === 'next') show(await api(base, { method: 'POST', body: '{}' }));
      else {
        await api(`${base}/${action}`, { method: 'POST', body: '{}' });
        idle(action === 'dial' ? 'Dialling: the call comes to your phone when they answer.' : 'Lead put back.');
      }
    } catch (error) {
      idle(error.message);
    }
  }

  $('preview-next').addEventListener('click', () => act('next'));
  $('preview-dial').addEventListener('click', () => act('dial'));
  $('preview-skip').addEventListener('click', () => act('skip'));
  idle('');
  // A lead already held (the page was reloaded) is shown again; reading changes nothing.
  api(base).then(show, () => {});
})();
