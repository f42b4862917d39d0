// Builds the viewer's DOM: toolbar (slice, view, contrast), image viewport, status bar, error panel.
// Buttons are @vscode-elements components; the inputs the e2e tests fill are native <input>s styled with the
// VS Code theme variables, because Playwright's fill() only works on native inputs, not custom elements.
// The data-testid attributes are a contract with the real-VS-Code tests: do not rename them.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';

export interface ViewerDom {
  root: HTMLElement;
  toolbar: HTMLElement;
  sliceSlider: HTMLInputElement;
  sliceInput: HTMLInputElement;
  sliceTotal: HTMLElement;
  fitButton: HTMLElement;
  oneToOneButton: HTMLElement;
  /** 3 views: XZ and YZ beside XY (webview/orthoViews.ts). */
  orthoButton: HTMLElement;
  zoomLabel: HTMLElement;
  autoButton: HTMLElement;
  levelMin: HTMLInputElement;
  levelMax: HTMLInputElement;
  histogram: HTMLCanvasElement;
  viewport: HTMLElement;
  canvas: HTMLCanvasElement;
  loading: HTMLElement;
  error: HTMLElement;
  errorText: HTMLElement;
  statusSlice: HTMLElement;
  statusPixel: HTMLElement;
  statusInfo: HTMLElement;
  statusZoom: HTMLElement;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; testId?: string; text?: string; title?: string } = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.testId) node.dataset.testid = props.testId;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title) node.title = props.title;
  for (const c of children) node.append(c);
  return node;
}

function custom(tag: string, props: { testId?: string; text?: string; title?: string; secondary?: boolean } = {}): HTMLElement {
  const node = document.createElement(tag);
  if (props.testId) node.dataset.testid = props.testId;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title) node.title = props.title;
  if (props.secondary) node.setAttribute('secondary', '');
  return node;
}

function numberInput(testId: string, label: string, className: string): HTMLInputElement {
  const input = el('input', { className: `num ${className}`, testId, title: label });
  input.type = 'number';
  input.setAttribute('aria-label', label);
  input.spellcheck = false;
  return input;
}

export function buildViewerDom(parent: HTMLElement): ViewerDom {
  const sliceSlider = el('input', { className: 'slice-slider', testId: 'slice-slider', title: 'Slice (Up/Down, PageUp/PageDown, Home/End, mouse wheel)' });
  sliceSlider.type = 'range';
  sliceSlider.min = '1';
  sliceSlider.max = '1';
  sliceSlider.step = '1';
  sliceSlider.setAttribute('aria-label', 'Slice');
  const sliceInput = numberInput('slice-input', 'Slice number', 'slice-num');
  sliceInput.min = '1';
  sliceInput.step = '1';
  const sliceTotal = el('span', { className: 'muted', text: '/ –' });

  const fitButton = custom('vscode-button', { testId: 'btn-fit', text: 'Fit', title: 'Fit the slice in the view (F)', secondary: true });
  const oneToOneButton = custom('vscode-button', { testId: 'btn-1to1', text: '1:1', title: 'One image pixel per screen pixel (0)', secondary: true });
  const zoomLabel = el('span', { className: 'muted zoom-label', text: '' });
  const orthoButton = custom('vscode-button', { testId: 'btn-3views', text: '3 views', title: 'XZ and YZ views beside XY, with crosshairs (click to move them); paint in any view', secondary: true });

  const autoButton = custom('vscode-button', { testId: 'btn-auto-contrast', text: 'Auto', title: 'Auto contrast: 0.5–99.5 percentiles of this slice (A)', secondary: true });
  const levelMin = numberInput('level-min', 'Display minimum (black)', 'level');
  const levelMax = numberInput('level-max', 'Display maximum (white)', 'level');
  const histogram = el('canvas', { className: 'histogram', testId: 'histogram', title: 'Histogram of this slice; the shaded band is the display window' });

  const group = (label: string, ...items: Node[]) => el('div', { className: 'group' }, [el('span', { className: 'group-label', text: label }), ...items]);
  const toolbar = el('div', { className: 'toolbar' }, [
    group('Slice', sliceSlider, sliceInput, sliceTotal),
    el('span', { className: 'sep' }),
    group('View', fitButton, oneToOneButton, orthoButton, zoomLabel),
    el('span', { className: 'sep' }),
    group('Contrast', autoButton, levelMin, el('span', { className: 'muted', text: '–' }), levelMax, histogram),
  ]);
  toolbar.setAttribute('role', 'toolbar');

  const canvas = el('canvas', { className: 'image empty', testId: 'viewer-canvas' });
  canvas.tabIndex = 0;
  canvas.setAttribute('aria-label', 'Image slice. Up/Down: next/previous slice, PageUp/PageDown: 10 slices, Home/End: first/last, Ctrl+wheel: zoom, drag: pan.');
  const loading = el('div', { className: 'loading' }, [custom('vscode-progress-ring'), el('span', { text: 'Opening stack…' })]);
  const errorText = el('p', { className: 'error-text' });
  const error = el('div', { className: 'error', testId: 'error-message' }, [
    el('h2', { text: 'This file cannot be shown as an image stack' }),
    errorText,
  ]);
  error.setAttribute('role', 'alert');
  error.hidden = true;
  const viewport = el('div', { className: 'viewport' }, [canvas, loading, error]);

  const statusSlice = el('span', { testId: 'status-slice', text: 'Slice – / –' });
  const statusPixel = el('span', { className: 'pixel', testId: 'status-pixel', text: '' });
  const statusZoom = el('span', { className: 'muted', testId: 'status-zoom', text: '' });
  const statusInfo = el('span', { testId: 'status-info', text: '' });
  const status = el('div', { className: 'statusbar' }, [
    statusSlice, statusPixel, el('span', { className: 'spacer' }), statusZoom, statusInfo,
  ]);
  status.setAttribute('role', 'status');

  const root = el('div', { className: 'stack-viewer' }, [toolbar, viewport, status]);
  parent.append(root);
  return {
    root, toolbar, sliceSlider, sliceInput, sliceTotal, fitButton, oneToOneButton, orthoButton, zoomLabel, autoButton, levelMin, levelMax,
    histogram, viewport, canvas, loading, error, errorText, statusSlice, statusPixel, statusInfo, statusZoom,
  };
}

/** Shows the one clear message for a file that cannot be viewed; hides everything that needs an image. */
export function showError(dom: ViewerDom, message: string): void {
  dom.loading.hidden = true;
  dom.canvas.hidden = true;
  dom.errorText.textContent = message;
  dom.error.hidden = false;
  dom.root.classList.add('has-error');
}
