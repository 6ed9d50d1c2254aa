// The quality page: draw the calls to review, play one beside the chosen form,
// answer and save the evaluation; the period's evaluations below.
// /qa#rec-42 opens recording 42 for scoring (the recordings page links here).
(() => {
  const sampleForm = document.getElementById('qa-sample-form');
  const sampleBody = document.getElementById('qa-sample').tBodies[0];
  const zone = document.getElementById('qa-sample').dataset.zone;
  const summary = document.getElementById('qa-sample-summary');
  const audio = document.getElementById('qa-audio');
  const nowPlaying = document.getElementById('qa-now');
  const select = document.getElementById('qa-form-select');
  const evalForm = document.getElementById('qa-eval');
  const questions = document.getElementById('qa-questions');
  const submit = document.getElementById('qa-submit');
  const result = document.getElementById('qa-result');
  const progress = document.getElementById('qa-live-score');
  const when = (epoch) => qaWhen(epoch, zone);
  const clock = (seconds) => duration(seconds, { round: true, hours: 'never' });
  let forms = [];
  let recording = null; // {id, agent, queue, caller, started_at}

  const form = () => forms.find((f) => String(f.id) === select.value);

  function showProgress() {
    const chosen = form();
    if (!chosen) return;
    const all = chosen.definition.sections.flatMap((s) => s.questions).length;
    const done = Object.keys(qaReadAnswers(questions, chosen.definition)).length;
    progress.textContent = `${done} of ${all} questions answered`;
    submit.disabled = !recording || done < all;
  }

  function drawForm() {
    const chosen = form();
    if (!chosen) {
      questions.replaceChildren(el('p', { className: 'qa-muted', textContent: 'No evaluation form yet: an admin makes one.' }));
      return;
    }
    qaRenderForm(questions, chosen.definition, showProgress);
    showProgress();
  }

  async function loadForms() {
    forms = (await api('/api/qa/forms')).forms;
    select.replaceChildren(...forms.map((f) => el('option', { value: f.id, textContent: `${f.definition.title} (${f.name} v${f.version})` })));
    drawForm();
  }

  function open(item) {
    recording = item;
    for (const row of sampleBody.querySelectorAll('[aria-current]')) row.removeAttribute('aria-current');
    document.getElementById(`qa-rec-${item.id}`)?.setAttribute('aria-current', 'true');
    nowPlaying.textContent = `${when(item.started_at)} · ${item.caller} → ${item.agent} (${item.queue})`;
    audio.src = `/api/recordings/${item.id}/audio`;
    result.textContent = '';
    drawForm();
  }

  async function draw() {
    if (!sampleForm.reportValidity()) return;
    const query = new URLSearchParams();
    for (const [key, value] of new FormData(sampleForm)) if (value) query.set(key, value);
    let found;
    try {
      found = await api(`/api/qa/sample?${query}`);
    } catch (error) {
      summary.textContent = `No draw: ${error.message}`;
      return;
    }
    const rows = found.agents.flatMap((a) => a.calls.map((c) => {
      const item = { id: c.recording_id, agent: a.agent, queue: c.queue, caller: c.caller, started_at: c.started_at };
      return el('tr', { id: `qa-rec-${c.recording_id}` },
        el('th', { scope: 'row', textContent: a.agent }),
        el('td', { textContent: when(c.started_at) }),
        el('td', { textContent: c.queue }),
        el('td', { textContent: c.caller }),
        el('td', { textContent: clock(c.duration) }),
        el('td', {}, el('button', { type: 'button', textContent: 'Score', className: 'qa-open', onclick: () => open(item) })));
    }));
    sampleBody.replaceChildren(...rows);
    if (!rows.length) sampleBody.append(el('tr', {}, el('td', { colSpan: 6, textContent: 'Nothing left to review in this period.' })));
    const evaluated = found.agents.reduce((n, a) => n + a.evaluated, 0);
    summary.textContent = `${rows.length} calls to review, ${evaluated} evaluated already (seed "${found.seed}").`;
    listEvaluations();
  }

  async function listEvaluations() {
    const data = new FormData(sampleForm);
    const query = new URLSearchParams({ from: data.get('from'), to: data.get('to') });
    if (data.get('queue')) query.set('queue', data.get('queue'));
    let found;
    try {
      found = await api(`/api/qa/evaluations?${query}`);
    } catch (error) {
      return;
    }
    const body = document.getElementById('qa-evaluations').tBodies[0];
    body.replaceChildren(...found.evaluations.map((e) => el('tr', {},
      el('td', { textContent: when(e.call_at) }),
      el('td', { textContent: e.agent }),
      el('td', { textContent: e.queue }),
      el('td', { textContent: `${e.form_name} v${e.form_version}` }),
      el('td', { className: e.critical_failed ? 'qa-failed' : '', textContent: qaPct(e.score) }),
      el('td', { textContent: e.evaluator }),
      el('td', { textContent: e.acknowledged_at ? `${when(e.acknowledged_at)}${e.agent_comment ? `: ${e.agent_comment}` : ''}` : 'not yet' }))));
    if (!found.evaluations.length) body.append(el('tr', {}, el('td', { colSpan: 7, textContent: 'No evaluations in this period.' })));
  }

  evalForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = form();
    if (!chosen || !recording) return;
    submit.disabled = true;
    try {
      const made = await request('/api/qa/evaluations', {
        method: 'POST',
        body: JSON.stringify({
          form_id: chosen.id, recording_id: recording.id,
          answers: qaReadAnswers(questions, chosen.definition),
          comment: document.getElementById('qa-comment').value,
        }),
      });
      result.classList.remove('qa-error');
      result.textContent = `Saved. ${qaScoreText(made)}`;
      document.getElementById('qa-comment').value = '';
      recording = null;
      draw();
    } catch (error) {
      result.classList.add('qa-error');
      result.textContent = `Not saved: ${describeError(error)}`;
      submit.disabled = false;
    }
  });

  async function openFromHash() {
    const id = /^#rec-(\d+)$/.exec(location.hash)?.[1];
    if (!id) return;
    try {
      const r = await api(`/api/recordings/${id}`);
      open({ id: r.id, agent: r.agent, queue: r.queue, caller: r.caller, started_at: r.started_at });
    } catch (error) {
      nowPlaying.textContent = `Recording ${id}: ${error.message}`;
    }
  }

  select.addEventListener('change', drawForm);
  sampleForm.addEventListener('submit', (event) => { event.preventDefault(); draw(); });
  audio.addEventListener('error', () => { if (audio.src) nowPlaying.textContent += ' (could not be loaded)'; });
  window.addEventListener('hashchange', openFromHash);
  loadForms().catch((error) => { result.textContent = `Forms: ${error.message}`; }).then(openFromHash);
  draw();
})();
