// An agent's own evaluations: the list, one opened with its answers, the call's
// recording, and the acknowledgement (once, with an optional comment).
(() => {
  const table = document.getElementById('qa-mine');
  const zone = table.dataset.zone;
  const message = document.getElementById('qa-mine-message');
  const detail = document.getElementById('qa-detail');
  const ack = document.getElementById('qa-ack');
  const status = document.getElementById('qa-ack-status');
  const when = (epoch) => qaWhen(epoch, zone);
  let current = null;

  async function list() {
    let found;
    try {
      found = await api('/api/qa/evaluations');
    } catch (error) {
      message.textContent = `Evaluations: ${error.message}`;
      return;
    }
    const body = table.tBodies[0];
    body.replaceChildren(...found.evaluations.map((e) => el('tr', { id: `qa-eval-${e.id}` },
      el('td', { textContent: when(e.call_at) }),
      el('td', { textContent: e.queue }),
      el('td', { textContent: `${e.form_name} v${e.form_version}` }),
      el('td', { className: e.critical_failed ? 'qa-failed' : '', textContent: qaPct(e.score) }),
      el('td', { textContent: e.evaluator }),
      el('td', { className: 'qa-acknowledged', textContent: e.acknowledged_at ? when(e.acknowledged_at) : 'not yet' }),
      el('td', {}, el('button', { type: 'button', className: 'qa-view', textContent: 'View', onclick: () => show(e.id) })))));
    if (!found.evaluations.length) body.append(el('tr', {}, el('td', { colSpan: 7, textContent: 'No evaluations yet.' })));
  }

  async function show(id) {
    let e;
    try {
      e = await api(`/api/qa/evaluations/${id}`);
    } catch (error) {
      message.textContent = `Evaluation ${id}: ${error.message}`;
      return;
    }
    current = e;
    detail.hidden = false;
    for (const row of table.querySelectorAll('[aria-current]')) row.removeAttribute('aria-current');
    document.getElementById(`qa-eval-${id}`)?.setAttribute('aria-current', 'true');
    document.getElementById('qa-detail-title').textContent = `${e.form.title}: call of ${when(e.call_at)} (${e.queue})`;
    document.getElementById('qa-detail-score').textContent = `${qaScoreText(e)}, by ${e.evaluator} on ${when(e.evaluated_at)}`;
    document.getElementById('qa-detail-comment').textContent = e.comment ? `Comment: ${e.comment}` : '';
    document.getElementById('qa-mine-audio').src = `/api/qa/evaluations/${id}/audio`;
    qaRenderAnswers(document.getElementById('qa-detail-sections'), e);
    ack.hidden = e.acknowledged_at !== null;
    status.textContent = e.acknowledged_at
      ? `Acknowledged ${when(e.acknowledged_at)}${e.agent_comment ? `: ${e.agent_comment}` : ''}` : '';
  }

  ack.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!current) return;
    try {
      await request(`/api/qa/evaluations/${current.id}/acknowledge`, {
        method: 'POST', body: JSON.stringify({ comment: document.getElementById('qa-ack-comment').value }),
      });
      document.getElementById('qa-ack-comment').value = '';
      await list();
      await show(current.id);
    } catch (error) {
      status.textContent = `Not acknowledged: ${describeError(error)}`;
    }
  });

  list();
})();
