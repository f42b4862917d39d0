// "Segmentation" section of the viewer's panel: shown while the host overlays a job's mask (stackseg.showSegmentation).
// Show/hide and opacity act on the overlay canvas only (view state, nothing is saved); the legend names the classes,
// and in the uncertainty view a colour bar maps the heat colours to the forest's confidence.

/** Default opacity of the segmentation fill: the image stays readable under it. */
export const SEGMENTATION_OPACITY = 0.4;

import type { LabelClass } from '../src/shared/labels/classes';
import type { SegmentationView } from '../src/shared/protocol';

/** Uncertainty 0..255 -> transparent (certain) through yellow to red (most doubtful). */
export function heatTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let v = 1; v < 256; v++) {
    const f = Math.min(1, v / 128); // two classes: uncertainty tops out at 128
    const r = 255, g = Math.round(255 * (1 - f)), a = Math.round(255 * Math.min(1, 0.2 + f));
    t[v] = ((a << 24) | (0 << 16) | (g << 8) | r) >>> 0;
  }
  return t;
}

export class SegmentationPanel {
  readonly root: HTMLElement;
  private readonly showBox: HTMLInputElement;
  private readonly opacity: HTMLInputElement;
  private readonly sourceLabel: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly viewRow: HTMLElement;
  private readonly viewSelect: HTMLSelectElement;
  private readonly heatLegend: HTMLElement;

  constructor(private readonly canvas: HTMLCanvasElement, onView: (view: SegmentationView) => void) {
    this.root = document.createElement('section');
    this.root.className = 'panel-section';
    this.root.dataset.testid = 'segmentation-panel';
    this.root.hidden = true;
    const title = document.createElement('h3');
    title.textContent = 'Segmentation';
    this.sourceLabel = document.createElement('div');
    this.sourceLabel.className = 'muted';
    this.showBox = document.createElement('input');
    this.showBox.type = 'checkbox';
    this.showBox.checked = true;
    this.showBox.dataset.testid = 'segmentation-show';
    this.showBox.addEventListener('change', () => this.apply());
    const showLabel = document.createElement('label');
    showLabel.append(this.showBox, ' Show segmentation');
    this.opacity = document.createElement('input');
    this.opacity.type = 'range';
    this.opacity.min = '0';
    this.opacity.max = '1';
    this.opacity.step = '0.05';
    this.opacity.value = String(SEGMENTATION_OPACITY);
    this.opacity.dataset.testid = 'segmentation-opacity';
    this.opacity.addEventListener('input', () => {
      this.apply();
      this.onOpacityChange?.(Number(this.opacity.value));
    });
    const opacityRow = document.createElement('div');
    opacityRow.className = 'row';
    const opacityText = document.createElement('span');
    opacityText.className = 'muted';
    opacityText.textContent = 'Opacity';
    opacityRow.append(opacityText, this.opacity);
    this.viewSelect = document.createElement('select');
    this.viewSelect.dataset.testid = 'segmentation-view';
    for (const [value, text] of [['classes', 'Classes'], ['uncertainty', 'Uncertainty (heat)']]) {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      this.viewSelect.append(o);
    }
    this.viewSelect.addEventListener('change', () => onView(this.viewSelect.value as SegmentationView));
    this.viewRow = document.createElement('div');
    this.viewRow.className = 'row';
    this.viewRow.hidden = true;
    this.viewRow.append(this.viewSelect);
    this.legend = document.createElement('div');
    this.legend.dataset.testid = 'segmentation-legend';
    this.heatLegend = heatLegend();
    this.root.append(title, this.sourceLabel, showLabel, this.viewRow, opacityRow, this.legend, this.heatLegend);
    this.apply();
  }

  /** Told when the user moves the opacity slider (the view state keeps it across tab switches and reloads). */
  onOpacityChange: ((opacity: number) => void) | undefined;

  setOpacity(opacity: number): void {
    this.opacity.value = String(opacity);
    this.apply();
  }

  /** A mask arrived (source = job) or was taken away (undefined). */
  setSource(source: string | undefined, view: SegmentationView = 'classes', canShowUncertainty = false): void {
    this.root.hidden = source === undefined;
    this.viewRow.hidden = !canShowUncertainty;
    this.viewSelect.value = view;
    this.legend.hidden = view !== 'classes';
    this.heatLegend.hidden = view !== 'uncertainty';
    document.body.dataset.segmentationView = view;
    this.sourceLabel.textContent = source ?? '';
    this.apply();
  }

  /** True while the mask should be drawn (host sent one and the box is ticked). */
  get visible(): boolean {
    return !this.root.hidden && this.showBox.checked;
  }

  setClasses(classes: readonly LabelClass[]): void {
    this.legend.replaceChildren(...classes.map((c) => {
      const row = document.createElement('div');
      row.className = 'row';
      const swatch = document.createElement('span');
      swatch.style.cssText = `display:inline-block;width:12px;height:12px;background:${c.color};margin-right:6px`;
      row.append(swatch, `${c.index} ${c.name}`);
      return row;
    }));
  }

  private apply(): void {
    this.canvas.hidden = !this.visible;
    this.canvas.style.opacity = this.opacity.value;
    document.body.dataset.segmentationOpacity = this.opacity.value;
  }
}

/** Colour bar of the uncertainty view: the heat table from certain (see-through) to a 50:50 call (red). */
function heatLegend(): HTMLElement {
  const box = document.createElement('div');
  box.className = 'heat-legend';
  box.dataset.testid = 'uncertainty-legend';
  box.hidden = true;
  const title = document.createElement('div');
  title.className = 'muted';
  title.textContent = 'Uncertainty: 1 − probability of the chosen class';
  const bar = document.createElement('canvas');
  bar.width = 129;
  bar.height = 1;
  bar.dataset.testid = 'uncertainty-colorbar';
  const ctx = bar.getContext('2d');
  if (ctx) {
    const img = ctx.createImageData(129, 1);
    new Uint32Array(img.data.buffer).set(heatTable().subarray(0, 129));
    ctx.putImageData(img, 0, 0);
  }
  const ticks = document.createElement('div');
  ticks.className = 'ticks muted';
  for (const t of ['certain', 'p 0.75', 'p ≤ 0.5']) {
    const span = document.createElement('span');
    span.textContent = t;
    ticks.append(span);
  }
  box.append(title, bar, ticks);
  return box;
}
