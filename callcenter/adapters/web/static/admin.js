// The administration page: a table and a form per kind of thing, all over
// /api/admin. The server checks everything; a refused change is shown with
// every problem it named, and the form keeps what was typed.
(() => {
  const $ = (id) => document.getElementById(id);
  const button = (text, onclick, label) => el('button', { type: 'button', textContent: text, onclick, ariaLabel: label || text });

  // -- tabs ---------------------------------------------------------------------------------
  const tabs = [...document.querySelectorAll('.ad-tabs [role=tab]')];
  function select(tab) {
    for (const other of tabs) {
      other.setAttribute('aria-selected', String(other === tab));
      $(other.getAttribute('aria-controls')).hidden = other !== tab;
    }
    history.replaceState(null, '', `#${tab.getAttribute('aria-controls')}`);
  }
  for (const tab of tabs) tab.addEventListener('click', () => select(tab));
  select(tabs.find((t) => `#${t.getAttribute('aria-controls')}` === location.hash) || tabs[0]);

  // -- messages -------------------------------------------------------------------------------
  function done(box, text, secret = '') {
    box.classList.remove('error');
    box.replaceChildren(text);
    if (secret) box.append(' ', el('span', { className: 'ad-secret', textContent: secret }), ' (shown once: note it now)');
  }
  function applied(result) {
    return result.applied === false ? ` Not live yet: ${result.warning}` : ' Live now.';
  }
  function failed(box, error) {
    box.classList.add('error');
    const problems = error.problems && error.problems.length ? error.problems : [];
    box.replaceChildren(problems.length ? 'Not saved:' : `Not saved: ${error.message}`);
    if (problems.length) box.append(el('ul', {}, ...problems.map((p) => el('li', { textContent: p }))));
  }
  const send = (method, path, body) => request(path, { method, body: JSON.stringify(body ?? {}) });
  const refusedIn = (box) => (error) => failed(box, error);
  async function attempt(box, action) {
    try {
      await action();
    } catch (error) {
      failed(box, error);
    }
  }
  function parseDocument(text) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw Object.assign(new Error('JSON'), { problems: [`the document is not JSON: ${error.message}`] });
    }
  }

  // -- "skill:level, skill:level" <-> {skill: level} ----------------------------------------
  function levels(text, what) {
    const found = {};
    for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
      const match = /^([^:\s]+)\s*:\s*(\d+)$/.exec(part);
      if (!match) throw Object.assign(new Error(`${what}`), { problems: [`${what}: write skill:level, e.g. support:3 (not ${JSON.stringify(part)})`] });
      found[match[1]] = Number(match[2]);
    }
    return found;
  }
  const showLevels = (map) => Object.entries(map || {}).map(([k, v]) => `${k}:${v}`).join(', ');

  // A table body from rows of cells (strings or nodes).
  function fill(tableId, rows, empty) {
    const body = $(tableId).tBodies[0];
    const width = $(tableId).tHead.rows[0].cells.length;
    body.replaceChildren(...rows.map(([id, cells]) => el('tr', { id }, ...cells.map((c) => el('td', {}, c)))));
    if (!rows.length) body.append(el('tr', {}, el('td', { colSpan: width, className: 'ad-off', textContent: empty })));
  }
  async function load(path, tableId, box) {
    try {
      return await request(path);
    } catch (error) {
      failed(box, error);
      fill(tableId, [], `Could not load: ${error.message}`);
      return null;
    }
  }

  // A form posts (new) or puts (edit); its "New" button goes back to an empty form.
  function editable(form, title, newTitle) {
    const reset = form.querySelector('.ad-reset');
    const toNew = () => {
      form.reset();
      form.dataset.mode = 'create';
      form.elements.namedItem(form.dataset.key || 'name').readOnly = false;
      $(title).textContent = newTitle;
    };
    if (reset) reset.addEventListener('click', toNew);
    return (label) => {
      form.dataset.mode = 'edit';
      form.elements.namedItem(form.dataset.key || 'name').readOnly = true;
      $(title).textContent = label;
      form.scrollIntoView({ behavior: 'smooth', block: 'start' });
    };
  }

  // -- agents -------------------------------------------------------------------------------
  const agentForm = $('admin-agent-form');
  const agentBox = $('admin-agent-message');
  agentForm.dataset.key = 'username';
  const editAgent = editable(agentForm, 'admin-agent-form-title', 'New agent');
  async function loadAgents() {
    const data = await load('/api/admin/agents', 'admin-agents-table', agentBox);
    if (!data) return;
    fill('admin-agents-table', data.agents.map((a) => [`admin-agent-${a.username}`, [
      a.username, a.name, a.extension, showLevels(a.skills) || '–', a.active ? 'yes' : 'no',
      el('span', {},
        button('Edit', () => {
          const f = agentForm.elements;
          f.username.value = a.username; f.name.value = a.name; f.extension.value = a.extension;
          f.password.value = ''; f.skills.value = showLevels(a.skills); f.static_contact.value = a.static_contact;
          editAgent(`Agent ${a.username}`);
        }, `Edit agent ${a.username}`),
        button(a.active ? 'Disable' : 'Enable', async () => {
          await attempt(agentBox, async () => {
            const r = await send('PUT', `/api/admin/agents/${a.username}/active`, { active: !a.active });
            done(agentBox, `Agent ${a.username} ${r.agent.active ? 'enabled' : 'disabled'}.${applied(r)}`);
          });
          loadAgents();
        }, `${a.active ? 'Disable' : 'Enable'} agent ${a.username}`),
        button('New password', async () => {
          if (!confirm(`Give ${a.username} a new SIP password? Their phone must be set up again.`)) return;
          await attempt(agentBox, async () => {
            const r = await send('POST', `/api/admin/agents/${a.username}/password`);
            done(agentBox, `New SIP password for ${a.username}:${applied(r)}`, r.password);
          });
        }, `New SIP password for ${a.username}`)),
    ]]), 'No agents yet.');
  }
  onSubmit(agentForm, async () => {
    const f = agentForm.elements;
    const body = {
      username: f.username.value, name: f.name.value, extension: f.extension.value,
      password: f.password.value, skills: levels(f.skills.value, 'skills'), static_contact: f.static_contact.value,
    };
    const create = agentForm.dataset.mode !== 'edit';
    const r = await send(create ? 'POST' : 'PUT', create ? '/api/admin/agents' : `/api/admin/agents/${body.username}`, body);
    done(agentBox, `Agent ${r.agent.username} saved.${applied(r)}${r.password ? ' SIP password:' : ''}`, r.password);
    f.password.value = '';
    loadAgents();
    loadSkills();
  }, refusedIn(agentBox));

  // -- skills -------------------------------------------------------------------------------
  const skillForm = $('admin-skill-form');
  const skillBox = $('admin-skill-message');
  async function loadSkills() {
    const data = await load('/api/admin/skills', 'admin-skills-table', skillBox);
    if (!data) return;
    fill('admin-skills-table', data.skills.map((s) => [`admin-skill-${s.name}`, [
      s.name, s.description, String(s.agents), s.queues.join(', ') || '–',
      button('Edit', () => {
        skillForm.elements.name.value = s.name;
        skillForm.elements.description.value = s.description;
      }, `Edit skill ${s.name}`),
    ]]), 'No skills yet: add one before giving it to agents or queues.');
  }
  onSubmit(skillForm, async () => {
    const name = skillForm.elements.name.value;
    const r = await send('PUT', `/api/admin/skills/${encodeURIComponent(name)}`, { description: skillForm.elements.description.value });
    done(skillBox, `Skill ${r.skill.name} saved.`);
    loadSkills();
  }, refusedIn(skillBox));

  // -- queues -------------------------------------------------------------------------------
  const queueForm = $('admin-queue-form');
  const queueBox = $('admin-queue-message');
  const queueJson = $('admin-queue-json');
  const editQueue = editable(queueForm, 'admin-queue-form-title', 'New queue');
  queueForm.querySelector('.ad-reset').addEventListener('click', () => { queueJson.value = '{}'; });
  queueJson.value = '{}';
  const relaxText = (steps) => (steps || []).map((s) => `${s.after}: ${showLevels(s.requirements)}`).join('\n');
  function relaxSteps(text) {
    return text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
      const match = /^(\d+(?:\.\d+)?)\s*:(.*)$/.exec(line);
      if (!match) throw Object.assign(new Error('relax'), { problems: [`relax: write "seconds: skill:level, …" per line (not ${JSON.stringify(line)})`] });
      return { after: Number(match[1]), requirements: levels(match[2], 'relax') };
    });
  }
  function showQueue(q) {
    const f = queueForm.elements;
    f.name.value = q.name; f.requirements.value = showLevels(q.requirements); f.strategy.value = q.strategy;
    f.weight.value = q.weight; f.service_level_target.value = q.service_level_target; f.wrapup.value = q.wrapup;
    f.ring_timeout.value = q.ring_timeout; f.max_wait.value = q.max_wait ?? '';
    f.expected_talk.value = q.expected_talk; f.repeat_window_hours.value = q.repeat_window_hours;
    f.on_max_wait_action.value = q.on_max_wait.action; f.on_max_wait_target.value = q.on_max_wait.target;
    f.schedule.value = q.schedule; f.relax.value = relaxText(q.relax);
    queueJson.value = JSON.stringify(q, null, 2);
    editQueue(`Queue ${q.name}`);
  }
  async function loadQueues() {
    const data = await load('/api/admin/queues', 'admin-queues-table', queueBox);
    if (!data) return;
    fill('admin-queues-table', data.queues.map((q) => [`admin-queue-${q.name}`, [
      q.name, showLevels(q.requirements) || '–', q.strategy, String(q.weight), `${q.service_level_target} s`,
      `${q.wrapup} s`, q.max_wait === null ? '–' : `${q.max_wait} s → ${q.on_max_wait.action} ${q.on_max_wait.target}`,
      q.schedule || 'always open', button('Edit', () => showQueue(q), `Edit queue ${q.name}`),
    ]]), 'No queues yet.');
  }
  function queueDocument() {
    const document = parseDocument(queueJson.value || '{}');
    const f = queueForm.elements;
    const number = (input) => (input.value === '' ? undefined : Number(input.value));
    const overflow = { ...(document.on_max_wait || {}), action: f.on_max_wait_action.value, target: f.on_max_wait_target.value };
    Object.assign(document, {
      name: f.name.value, requirements: levels(f.requirements.value, 'requirements'), strategy: f.strategy.value,
      weight: number(f.weight), service_level_target: number(f.service_level_target), wrapup: number(f.wrapup),
      ring_timeout: number(f.ring_timeout), expected_talk: number(f.expected_talk), repeat_window_hours: number(f.repeat_window_hours), max_wait: f.max_wait.value === '' ? null : Number(f.max_wait.value),
      on_max_wait: overflow, schedule: f.schedule.value, relax: relaxSteps(f.relax.value),
    });
    for (const key of Object.keys(document)) if (document[key] === undefined) delete document[key];
    return document;
  }
  onSubmit(queueForm, async () => {
    const document = queueDocument();
    const create = queueForm.dataset.mode !== 'edit';
    const r = await send(create ? 'POST' : 'PUT', create ? '/api/admin/queues' : `/api/admin/queues/${document.name}`, document);
    done(queueBox, `Queue ${r.queue.name} saved.${applied(r)}`);
    showQueue(r.queue);
    loadQueues();
    loadSkills();
  }, refusedIn(queueBox));

  // -- JSON documents: IVR flows and business hours -------------------------------------------
  function documentEditor(kind, textareaId, template, save) {
    const form = $(`admin-${kind}-form`);
    const box = $(`admin-${kind}-message`);
    const textarea = $(textareaId);
    textarea.value = JSON.stringify(template, null, 2);
    onSubmit(form, async () => {
      const document = parseDocument(textarea.value);
      if (kind === 'flow' && document && !document.name) document.name = form.elements.name.value;
      const r = await save(form.elements.name.value, document, form);
      done(box, `Saved.${applied(r)}`);
    }, refusedIn(box));
    return (name, document) => {
      form.elements.name.value = name;
      textarea.value = JSON.stringify(document, null, 2);
      form.scrollIntoView({ behavior: 'smooth', block: 'start' });
    };
  }

  const flowTemplate = {
    name: 'main',
    start: 'welcome',
    nodes: {
      welcome: { type: 'menu', prompts: ['beep'], timeout: 5, retries: 2, choices: { 1: 'support' }, on_fail: 'bye' },
      support: { type: 'queue', queue: 'support', priority: 0, skills: {} },
      bye: { type: 'hangup', reason: 'no-choice' },
    },
  };
  const showFlow = documentEditor('flow', 'admin-flow-json', flowTemplate, async (name, document, form) => {
    const numbers = form.elements.numbers.value.split(',').map((n) => n.trim()).filter(Boolean);
    const r = await send('PUT', `/api/admin/flows/${encodeURIComponent(name)}`, { document, numbers });
    loadFlows();
    return r;
  });
  async function loadFlows() {
    const box = $('admin-flow-message');
    const data = await load('/api/admin/flows', 'admin-flows-table', box);
    if (!data) return;
    fill('admin-flows-table', data.flows.map((f) => [`admin-flow-${f.name}`, [
      f.name, f.numbers.join(', ') || (f.name === 'main' ? 'every other number' : '–'), String(f.document.start || ''),
      String(Object.keys(f.document.nodes || {}).length),
      button('Edit', () => {
        $('admin-flow-numbers').value = f.numbers.join(', ');
        showFlow(f.name, f.document);
      }, `Edit flow ${f.name}`),
    ]]), 'No IVR flows yet.');
  }

  const scheduleTemplate = {
    timezone: 'Europe/London',
    weekly: { mon: ['08:00-18:00'], tue: ['08:00-18:00'], wed: ['08:00-18:00'], thu: ['08:00-18:00'], fri: ['08:00-17:00'] },
    country: 'GB',
    closed: [],
    special: {},
  };
  const showSchedule = documentEditor('schedule', 'admin-schedule-json', scheduleTemplate, async (name, document) => {
    const r = await send('PUT', `/api/admin/schedules/${encodeURIComponent(name)}`, { document });
    loadSchedules();
    return r;
  });
  async function loadSchedules() {
    const data = await load('/api/admin/schedules', 'admin-schedules-table', $('admin-schedule-message'));
    if (!data) return;
    fill('admin-schedules-table', data.schedules.map((s) => {
      const d = s.document;
      const weekly = Object.entries(d.weekly || {}).map(([day, w]) => `${day} ${[].concat(w).join(' ')}`).join('; ');
      const dates = [...(d.closed || []), ...Object.keys(d.special || {}).map((day) => `${day} (special)`)].join(', ');
      return [`admin-schedule-${s.name}`, [
        s.name, d.timezone || '', weekly || 'closed all week',
        d.country ? `${d.country}${d.subdivision ? `-${d.subdivision}` : ''}` : '–', dates || '–',
        el('span', {},
          button('Edit', () => showSchedule(s.name, d), `Edit schedule ${s.name}`),
          button('Next 14 days', () => previewSchedule(s.name), `Preview schedule ${s.name}`)),
      ]];
    }), 'No business hours yet: queues without a schedule are always open.');
  }

  async function previewSchedule(name) {
    const box = $('admin-schedule-message');
    let p;
    try {
      p = await request(`/api/admin/schedules/${encodeURIComponent(name)}/preview?days=14`);
    } catch (error) {
      failed(box, error);
      return;
    }
    $('admin-schedule-preview').hidden = false;
    $('admin-schedule-preview-title').textContent = `${p.name}: the next ${p.days.length} days (${p.timezone})`;
    const change = p.next_change ? ` until ${p.next_change.replace('T', ' ')}` : '';
    $('admin-schedule-preview-now').textContent = `${p.open_now ? 'Open' : 'Closed'} now${change}.`;
    fill('admin-schedule-preview-table', p.days.map((d) => [`admin-schedule-day-${d.day}`, [
      d.day, d.windows.join(', ') || 'closed', d.holiday || (d.special ? 'special hours' : ''),
    ]]), 'No days.');
  }

  // -- users --------------------------------------------------------------------------------
  const userForm = $('admin-user-form');
  const userBox = $('admin-user-message');
  async function loadUsers() {
    const data = await load('/api/admin/users', 'admin-users-table', userBox);
    if (!data) return;
    fill('admin-users-table', data.users.map((u) => [`admin-user-${u.username}`, [
      u.username, u.role, u.agent || '–', u.active ? 'yes' : 'no',
      el('span', {},
        button(u.active ? 'Disable' : 'Enable', async () => {
          await attempt(userBox, async () => {
            await send('PUT', `/api/admin/users/${encodeURIComponent(u.username)}/active`, { active: !u.active });
            done(userBox, `User ${u.username} ${u.active ? 'disabled' : 'enabled'}.`);
          });
          loadUsers();
        }, `${u.active ? 'Disable' : 'Enable'} user ${u.username}`),
        button('Reset password', async () => {
          if (!confirm(`Give ${u.username} a new generated password?`)) return;
          await attempt(userBox, async () => {
            const r = await send('POST', `/api/admin/users/${encodeURIComponent(u.username)}/password`, { password: '' });
            done(userBox, `New password for ${u.username}:`, r.password);
          });
        }, `Reset the password of ${u.username}`)),
    ]]), 'No users.');
  }
  onSubmit(userForm, async () => {
    const f = userForm.elements;
    const r = await send('POST', '/api/admin/users', {
      username: f.username.value, role: f.role.value, agent: f.agent.value, password: f.password.value,
    });
    done(userBox, `User ${r.user.username} added.${f.password.value ? '' : ' Password:'}`, f.password.value ? '' : r.password);
    userForm.reset();
    loadUsers();
  }, refusedIn(userBox));

  loadAgents();
  loadSkills();
  loadQueues();
  loadFlows();
  loadSchedules();
  loadUsers();
})();
