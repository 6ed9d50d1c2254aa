// Admins' evaluation forms: the forms in use, one loaded into the JSON editor
// (with a preview of how supervisors will see it), saved, or retired.
(() => {
  const body = document.getElementById('qa-forms').tBodies[0];
  const editor = document.getElementById('qa-editor');
  const name = document.getElementById('qa-editor-name');
  const text = document.getElementById('qa-editor-definition');
  const status = document.getElementById('qa-editor-status');
  const preview = document.getElementById('qa-preview');
  const EXAMPLE = {
    title: 'Inbound call quality',
    description: '',
    sections: [
      { title: 'Opening', questions: [
        { key: 'greeting', text: 'Greeted the caller with the company name', kind: 'yes_no', weight: 1 },
        { key: 'verified', text: 'Verified the caller before discussing the account', kind: 'yes_no', weight: 2, critical: true, allow_na: true },
      ] },
      { title: 'Handling', questions: [
        { key: 'empathy', text: 'Empathy and tone', kind: 'scale', scale: 5, weight: 3 },
        { key: 'resolved', text: 'Resolved or set clear next steps', kind: 'yes_no', weight: 3 },
      ] },
    ],
  };
  const say = (message, isError = false) => {
    status.textContent = message;
    status.classList.toggle('qa-error', isError);
  };

  // -- the builder: the same definition as fields; every change rewrites the JSON ----------
  const builder = document.getElementById('qa-builder');
  let draft = null;

  function field(label, input) {
    return el('label', {}, label, input);
  }

  function changed() {
    text.value = JSON.stringify(draft, null, 2);
    showPreview();
  }

  function questionRow(section, question, index) {
    const set = (key, value) => { question[key] = value; changed(); };
    const scale = el('input', { type: 'number', min: 1, max: 10, value: question.scale || 5, disabled: question.kind !== 'scale',
      oninput: () => set('scale', Number(scale.value)) });
    const critical = el('input', { type: 'checkbox', checked: Boolean(question.critical), disabled: question.kind === 'scale',
      onchange: () => set('critical', critical.checked) });
    const kind = el('select', { onchange: () => {
      question.kind = kind.value;
      if (kind.value === 'scale') { question.scale = question.scale || 5; delete question.critical; } else delete question.scale;
      render();
    } }, el('option', { value: 'yes_no', textContent: 'yes / no' }), el('option', { value: 'scale', textContent: '0 to N' }));
    kind.value = question.kind || 'yes_no';
    return el('div', { className: 'qa-builder-question' },
      field('Key', el('input', { type: 'text', value: question.key || '', className: 'qa-key', size: 12, oninput: (e) => set('key', e.target.value) })),
      field('Question', el('input', { type: 'text', value: question.text || '', className: 'qa-text', oninput: (e) => set('text', e.target.value) })),
      field('Answer', kind),
      field('N', scale),
      field('Weight', el('input', { type: 'number', min: 0.1, max: 100, step: 0.1, value: question.weight ?? 1, oninput: (e) => set('weight', Number(e.target.value)) })),
      field('Critical', critical),
      field('N/A allowed', el('input', { type: 'checkbox', checked: Boolean(question.allow_na), onchange: (e) => set('allow_na', e.target.checked) })),
      el('button', { type: 'button', textContent: 'Remove', onclick: () => { section.questions.splice(index, 1); render(); } }));
  }

  function render() {
    if (draft === null) return builder.replaceChildren();
    changed();
    builder.replaceChildren(
      field('Title', el('input', { type: 'text', id: 'qa-builder-title', value: draft.title || '', oninput: (e) => { draft.title = e.target.value; changed(); } })),
      ...draft.sections.map((section, i) => el('div', { className: 'qa-builder-section' },
        field('Section', el('input', { type: 'text', value: section.title || '', oninput: (e) => { section.title = e.target.value; changed(); } })),
        ' ', el('button', { type: 'button', textContent: 'Remove the section', onclick: () => { draft.sections.splice(i, 1); render(); } }),
        ...section.questions.map((q, j) => questionRow(section, q, j)),
        el('button', { type: 'button', textContent: 'Add a question', className: 'qa-add-question', onclick: () => {
          section.questions.push({ key: '', text: '', kind: 'yes_no', weight: 1 });
          render();
        } }))));
  }

  function fromText() {
    try {
      const parsed = JSON.parse(text.value);
      if (parsed && Array.isArray(parsed.sections)) {
        draft = parsed;
        for (const section of draft.sections) if (!Array.isArray(section.questions)) section.questions = [];
        render();
      }
    } catch (_) { /* the JSON is being typed: the builder waits for a whole form */ }
  }

  document.getElementById('qa-add-section').addEventListener('click', () => {
    if (draft === null) draft = { title: '', description: '', sections: [] };
    draft.sections.push({ title: '', questions: [{ key: '', text: '', kind: 'yes_no', weight: 1 }] });
    render();
  });
  text.addEventListener('change', fromText);

  function showPreview() {
    try {
      qaRenderForm(preview, JSON.parse(text.value));
    } catch (_) {
      preview.replaceChildren(el('p', { className: 'qa-muted', textContent: 'No preview: the definition is not a form yet.' }));
    }
  }

  function load(form) {
    name.value = form.name;
    text.value = JSON.stringify(form.definition, null, 2);
    fromText();
    say(form.used ? `${form.name} v${form.version} scored calls: saving makes version ${form.version + 1}.` : `${form.name} v${form.version}.`);
    showPreview();
  }

  async function list() {
    const { forms } = await api('/api/qa/forms');
    body.replaceChildren(...forms.map((f) => el('tr', {},
      el('th', { scope: 'row', textContent: f.name }),
      el('td', { textContent: f.definition.title }),
      el('td', { textContent: f.version }),
      el('td', { textContent: f.definition.sections.flatMap((s) => s.questions).length }),
      el('td', { textContent: f.used ? 'yes' : 'no' }),
      el('td', { textContent: `${new Date(f.created_at * 1000).toLocaleString()} by ${f.created_by}` }),
      el('td', {},
        el('button', { type: 'button', textContent: 'Edit', onclick: () => load(f) }), ' ',
        el('button', { type: 'button', textContent: 'Retire', onclick: () => retire(f.name) })))));
    if (!forms.length) body.append(el('tr', {}, el('td', { colSpan: 7, textContent: 'No forms yet.' })));
  }

  async function retire(formName) {
    if (!confirm(`Retire ${formName}? No new evaluations will use it; old ones keep it.`)) return;
    try {
      await request(`/api/qa/forms/${encodeURIComponent(formName)}`, { method: 'DELETE' });
      say(`${formName} retired.`);
    } catch (error) {
      if (error.status !== undefined) say(`Not retired: ${describeError(error)}`, true);
    }
    list();
  }

  editor.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!editor.reportValidity()) return;
    let definition;
    try {
      definition = JSON.parse(text.value);
    } catch (error) {
      say(`The definition is not JSON: ${error.message}`, true);
      return;
    }
    try {
      const saved = await request(`/api/qa/forms/${encodeURIComponent(name.value)}`, { method: 'PUT', body: JSON.stringify(definition) });
      say(`Saved ${saved.name} version ${saved.version}.`);
      list();
    } catch (error) {
      say(`Not saved: ${describeError(error)}`, true);
    }
  });
  document.getElementById('qa-new').addEventListener('click', () => {
    name.value = '';
    text.value = JSON.stringify(EXAMPLE, null, 2);
    fromText();
    say('A new form: give it a name, change the example, save.');
    showPreview();
  });
  text.addEventListener('input', showPreview);
  list().catch((error) => say(`Forms: ${error.message}`, true));
})();
