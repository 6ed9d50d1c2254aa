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
    say('A new form: give it a name, change the example, save.');
    showPreview();
  });
  text.addEventListener('input', showPreview);
  list().catch((error) => say(`Forms: ${error.message}`, true));
})();
