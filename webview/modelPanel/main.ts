// Model panel webview: model choice, a parameter form generated from the model registry (validated as you type with
// the same code the CLI uses), Train / Train and Segment / Segment buttons and the running jobs with Cancel.

import { paramUi } from '../../src/shared/models/paramTiers';
import { describeParam, MODELS, MODEL_KINDS, resolveParams, type ModelKind, type ParamSpec } from '../../src/shared/models/registry';
import type { HostToModelPanel, ModelPanelToHost, PanelJob } from '../../src/shared/modelPanelProtocol';

declare function acquireVsCodeApi(): { postMessage(m: ModelPanelToHost): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

interface SavedState { model: ModelKind; values: Partial<Record<ModelKind, Record<string, string>>>; advancedOpen?: boolean }
const saved = (vscode.getState() as SavedState | undefined) ?? { model: 'rf', values: {} };
let state: HostToModelPanel | undefined;

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};

const app = document.getElementById('app')!;
const stackLine = el('div', { class: 'stack', 'data-testid': 'stack-name' });
const modelSelect = el('select', { 'data-testid': 'model-select', id: 'model', 'aria-label': 'Model' });
for (const k of MODEL_KINDS) modelSelect.append(el('option', { value: k }, MODELS[k].title));
const description = el('p', { class: 'description' });
const form = el('div', { class: 'params', role: 'group', 'aria-label': 'Parameters' });
// The essential parameters (2-4 per model) stay in view; the rest wait under a collapsed "Advanced".
const advanced = el('details', { class: 'advanced', 'data-testid': 'advanced' });
const advancedSummary = el('summary', { 'data-testid': 'advanced-summary' }, 'Advanced');
advanced.addEventListener('toggle', () => { saved.advancedOpen = advanced.open; persist(); });
const reset = el('button', { class: 'link', 'data-testid': 'btn-reset' }, 'Reset to defaults');
const formError = el('div', { class: 'error', 'data-testid': 'form-error', role: 'alert' });
const btnRun = el('button', { class: 'primary', 'data-testid': 'btn-run' }, 'Train and Segment');
const btnTrain = el('button', { 'data-testid': 'btn-train' }, 'Train');
const trainedSelect = el('select', { 'data-testid': 'trained-select', 'aria-label': 'Trained model' });
const btnSegment = el('button', { 'data-testid': 'btn-segment' }, 'Segment');
const running = el('ul', { class: 'running', 'data-testid': 'running-list' });
const notice = el('p', { class: 'notice', 'data-testid': 'notice' });
// A multi-channel / time-lapse stack: jobs read one channel (`--set channel=N`) or all together (`--set channel=all`)
// at one time point, never mixed silently.
const planeRow = el('div', { class: 'plane', 'data-testid': 'plane-row' });
const channelSelect = el('select', { 'data-testid': 'job-channel', id: 'job-channel', 'aria-label': 'Channel the job reads' });
const timeInput = el('input', { 'data-testid': 'job-timepoint', id: 'job-timepoint', type: 'number', min: '1', value: '1', 'aria-label': 'Time point the job reads' });
const channelLabel = el('label', { for: 'job-channel' }, 'Channel');
const timeLabel = el('label', { for: 'job-timepoint' }, 'Time point');
planeRow.append(channelLabel, channelSelect, timeLabel, timeInput);
planeRow.hidden = true;

const labelFor = el('label', { for: 'model' }, 'Model');
app.append(stackLine, planeRow, notice, labelFor, modelSelect, description, el('h3', {}, 'Parameters'), form, reset, formError,
  el('div', { class: 'buttons' }), el('h3', {}, 'Segment with a trained model'), trainedSelect, btnSegment, el('h3', {}, 'Running'), running);
app.querySelector('.buttons')!.append(btnRun, btnTrain);

function values(model: ModelKind): Record<string, string> {
  return (saved.values[model] ??= {});
}

function fieldValue(p: ParamSpec, model: ModelKind): string {
  const v = values(model)[p.key];
  // A value saved under an older spelling (augment 'true') shows as the choice it stands for.
  if (v !== undefined) return p.aliases && Object.prototype.hasOwnProperty.call(p.aliases, v) ? p.aliases[v] : v;
  return Array.isArray(p.default) ? p.default.join(',') : String(p.default);
}

function renderForm(): void {
  const model = saved.model;
  modelSelect.value = model;
  description.textContent = MODELS[model].description;
  form.replaceChildren();
  advanced.replaceChildren(advancedSummary);
  for (const p of MODELS[model].params) {
    const id = `param-${p.key}`;
    const ui = paramUi(model, p.key);
    const row = el('div', { class: 'row', 'data-tier': ui.tier });
    const label = el('label', { for: id, title: describeParam(p) }, p.key);
    let input: HTMLInputElement | HTMLSelectElement;
    if (p.type === 'enum' || p.type === 'bool') {
      input = el('select', { id, 'data-testid': id });
      for (const c of p.type === 'bool' ? ['true', 'false'] : p.choices!) input.append(el('option', { value: c }, c));
    } else {
      input = el('input', { id, 'data-testid': id, type: 'text', spellcheck: 'false' });
    }
    input.value = fieldValue(p, model);
    input.addEventListener('input', () => { values(model)[p.key] = input.value; persist(); validate(); });
    input.addEventListener('change', () => { values(model)[p.key] = input.value; persist(); validate(); });
    // One plain-language line; the range and default are in the label's tooltip (and `stackseg params`).
    const hint = el('div', { class: 'hint', id: `${id}-hint`, 'data-testid': `${id}-hint`, title: describeParam(p) }, ui.hint || p.description);
    input.setAttribute('aria-describedby', `${id}-hint`);
    row.append(label, input, hint);
    (ui.tier === 'essential' ? form : advanced).append(row);
  }
  const extra = advanced.children.length - 1;
  if (extra > 0) form.append(advanced);
  advanced.open = !!saved.advancedOpen;
  validate();
}

/** Same validation as the CLI and the host: resolveParams throws a message naming the parameter and its range. */
function validate(): boolean {
  const model = saved.model;
  const changed: Record<string, string> = {};
  for (const p of MODELS[model].params) changed[p.key] = fieldValue(p, model);
  let message = '';
  try { resolveParams(model, changed); } catch (e) { message = (e as Error).message; }
  formError.textContent = message;
  let changedAdvanced = 0, invalidAdvanced = false;
  for (const row of form.querySelectorAll('.row')) {
    const key = row.querySelector('label')!.textContent!;
    const invalid = message.includes(`${model}.${key}=`);
    row.classList.toggle('invalid', invalid);
    if ((row as HTMLElement).dataset.tier !== 'advanced') continue;
    if (invalid) invalidAdvanced = true;
    const p = MODELS[model].params.find((q) => q.key === key)!;
    if (values(model)[key] !== undefined && values(model)[key] !== (Array.isArray(p.default) ? p.default.join(',') : String(p.default))) changedAdvanced++;
  }
  const count = advanced.children.length - 1;
  advancedSummary.textContent = `Advanced (${count} more${changedAdvanced ? `, ${changedAdvanced} changed` : ''})`;
  if (invalidAdvanced) advanced.open = true; // never hide the parameter the error names
  updateButtons(message === '');
  return message === '';
}

function updateButtons(valid: boolean): void {
  const hasStack = !!state?.stack, trusted = state?.trusted ?? false;
  const supervised = MODELS[saved.model].supervised;
  const needsLabels = supervised && !state?.stack?.hasLabels;
  btnRun.disabled = btnTrain.disabled = !valid || !hasStack || !trusted || needsLabels;
  btnSegment.disabled = !hasStack || !trusted || trainedSelect.options.length === 0;
  notice.textContent = !hasStack ? 'Open a TIFF stack in the StackSeg viewer to train on it.'
    : !trusted ? 'Jobs are disabled in an untrusted workspace (viewing and annotating still work).'
    : needsLabels ? `${MODELS[saved.model].title} needs labels: paint strokes of two classes and save.` : '';
}

function persist(): void { vscode.setState(saved); }

function start(kind: 'train' | 'run' | 'segment'): void {
  if (kind !== 'segment' && !validate()) return;
  const params: Record<string, string> = {};
  for (const p of MODELS[saved.model].params) params[p.key] = fieldValue(p, saved.model);
  const plane = planeChoice();
  vscode.postMessage(kind === 'segment'
    ? { type: 'start', kind, model: saved.model, params: {}, modelFrom: trainedSelect.value, ...plane }
    : { type: 'start', kind, model: saved.model, params, ...plane });
}

/** The channel / time point picked for a multi-channel / time-lapse stack (0-based), else nothing. */
function planeChoice(): { channel?: number | 'all'; timepoint?: number } {
  const s = state?.stack;
  const out: { channel?: number | 'all'; timepoint?: number } = {};
  if ((s?.channels ?? 1) > 1) out.channel = channelSelect.value === 'all' ? 'all' : Number(channelSelect.value);
  const t = Math.round(Number(timeInput.value)) - 1;
  if ((s?.frames ?? 1) > 1 && Number.isFinite(t)) out.timepoint = Math.min((s?.frames ?? 1) - 1, Math.max(0, t));
  return out;
}

/** Shows the channel / time point choice when the stack has several. */
function renderPlane(): void {
  const channels = state?.stack?.channels ?? 1, frames = state?.stack?.frames ?? 1;
  planeRow.hidden = channels <= 1 && frames <= 1;
  channelLabel.hidden = channelSelect.hidden = channels <= 1;
  timeLabel.hidden = timeInput.hidden = frames <= 1;
  if (channelSelect.options.length !== channels + 1) {
    const keep = channelSelect.value;
    channelSelect.replaceChildren(...Array.from({ length: channels }, (_, c) => el('option', { value: String(c) }, `Channel ${c + 1}`)),
      el('option', { value: 'all' }, 'All channels'));
    if (keep === 'all' || Number(keep) < channels) channelSelect.value = keep;
  }
  timeInput.max = String(frames);
  planeRow.title = channels > 1 ? `This stack has ${channels} channels: jobs train and segment on one (the CLI's --set channel=N) or on all together (--set channel=all).` : '';
}

modelSelect.addEventListener('change', () => { saved.model = modelSelect.value as ModelKind; persist(); renderForm(); });
reset.addEventListener('click', () => { saved.values[saved.model] = {}; persist(); renderForm(); });
btnRun.addEventListener('click', () => start('run'));
btnTrain.addEventListener('click', () => start('train'));
btnSegment.addEventListener('click', () => start('segment'));

window.addEventListener('message', (e: MessageEvent<HostToModelPanel>) => {
  if (e.data?.type !== 'state') return;
  state = e.data;
  stackLine.textContent = state.stack ? `Stack: ${state.stack.name}` : 'No stack open';
  stackLine.title = state.stack?.path ?? '';
  const keep = trainedSelect.value;
  const option = (t: PanelJob) => el('option', { value: t.dir, title: t.dir }, t.otherStack ? `${t.label} · from ${t.otherStack}` : t.label);
  const own = state.trained.filter((t) => !t.otherStack), other = state.trained.filter((t) => t.otherStack);
  const group = (label: string, items: PanelJob[]) => { const g = el('optgroup', { label }); g.append(...items.map(option)); return g; };
  trainedSelect.replaceChildren(...(other.length === 0 ? own.map(option)
    : [...(own.length ? [group('This stack', own)] : []), group('Trained on other stacks', other)]));
  if (state.trained.some((t) => t.dir === keep)) trainedSelect.value = keep;
  running.replaceChildren(...state.running.map((j) => {
    const li = el('li', { 'data-testid': 'running-job' }, `${j.label} — ${j.message ?? ''}`); // message: the host's one progress line
    const cancel = el('button', { class: 'link', 'data-testid': 'btn-cancel' }, 'Cancel');
    cancel.addEventListener('click', () => vscode.postMessage({ type: 'cancel', dir: j.dir }));
    const bar = el('progress', { max: '100', value: String(j.percent ?? 0) });
    li.append(bar, cancel);
    return li;
  }));
  if (state.running.length === 0) running.append(el('li', { class: 'empty' }, 'No job running.'));
  renderPlane();
  validate();
});

renderForm();
vscode.postMessage({ type: 'ready' });
