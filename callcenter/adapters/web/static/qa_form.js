// What the quality pages share: an evaluation form drawn from its definition (radio
// buttons to answer it, or the answers given, read-only), the answers read back,
// and how scores and times are shown. Scores come from the server as they are.
'use strict';

const qaPct = (score) => (score === null || score === undefined ? DASH : `${score.toFixed(1)} %`);
const qaWhen = (epoch, zone) => new Date(epoch * 1000).toLocaleString(undefined, { timeZone: zone || undefined });

function qaChoices(question) {
  const values = question.kind === 'scale'
    ? Array.from({ length: question.scale + 1 }, (_, n) => n)
    : ['yes', 'no'];
  return question.allow_na ? [...values, 'na'] : values;
}

const qaLabel = (value) => ({ yes: 'Yes', no: 'No', na: 'N/A' }[value] ?? String(value));

function qaQuestionHead(question) {
  const head = [question.text];
  if (question.critical) head.push(el('span', { className: 'qa-critical', textContent: 'critical' }));
  head.push(el('span', { className: 'qa-weight', textContent: `weight ${question.weight}` }));
  return head;
}

// The form to answer: one fieldset of radio buttons per question (ids qa-q-<key>-<value>).
function qaRenderForm(container, definition, onChange) {
  container.replaceChildren(...definition.sections.map((section) => el('div', { className: 'qa-section' },
    el('h3', { textContent: section.title }),
    ...section.questions.map((question) => el('fieldset', { className: 'qa-question' },
      el('legend', {}, ...qaQuestionHead(question)),
      ...qaChoices(question).map((value) => el('label', {},
        el('input', {
          type: 'radio', name: `q-${question.key}`, value: String(value), id: `qa-q-${question.key}-${value}`,
          onchange: onChange || null,
        }),
        ` ${qaLabel(value)}`)))))));
}

// The answers chosen so far: {key: "yes" | "no" | "na" | n}.
function qaReadAnswers(container, definition) {
  const answers = {};
  for (const question of definition.sections.flatMap((s) => s.questions)) {
    const chosen = container.querySelector(`input[name="q-${question.key}"]:checked`);
    if (!chosen) continue;
    answers[question.key] = question.kind === 'scale' && chosen.value !== 'na' ? Number(chosen.value) : chosen.value;
  }
  return answers;
}

// An evaluation read-only: per section its score, each question and the answer given.
function qaRenderAnswers(container, evaluation) {
  const failed = new Set(evaluation.critical_questions_failed);
  container.replaceChildren(...evaluation.form.sections.map((section, i) => el('div', { className: 'qa-section' },
    el('h3', { textContent: `${section.title}: ${qaPct(evaluation.sections[i].score)}` }),
    el('table', { className: 'qa-table' }, el('tbody', {}, ...section.questions.map((question) => {
      const answer = evaluation.answers[question.key];
      const shown = question.kind === 'scale' && answer !== 'na' ? `${answer} of ${question.scale}` : qaLabel(answer);
      return el('tr', {},
        el('th', { scope: 'row' }, ...qaQuestionHead(question)),
        el('td', { className: failed.has(question.key) ? 'qa-failed' : '', textContent: shown }));
    }))))));
}

function qaScoreText(evaluation) {
  const text = `Score ${qaPct(evaluation.score)}`;
  return evaluation.critical_failed ? `${text} (a critical question failed)` : text;
}
