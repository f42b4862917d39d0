// "Segmentation" section of the viewer's panel: shown while the host overlays a job's mask (stackseg.showSegmentation).
// Show/hide and opacity act on the overlay canvas only (view state, nothing is saved); the legend names the classes.

import type { LabelClass } from '../src/core/labels/classes';

export class SegmentationPanel {
  readonly root: HTMLElement;
  private readonly showBox: HTMLInputElement;
  private readonly opacity: HTMLInputElement;
  private readonly sourceLabel: HTMLElement;
  private readonly legend: HTMLElement;

  constructor(private readonly canvas: HTMLCanvasElement) {
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
    this.opacity.value = '0.6';
    this.opacity.dataset.testid = 'segmentation-opacity';
    this.opacity.addEventListener('input', () => this.apply());
    const opacityRow = document.createElement('div');
    opacityRow.className = 'row';
    const opacityText = document.createElement('span');
    opacityText.className = 'muted';
    opacityText.textContent = 'Opacity';
    opacityRow.append(opacityText, this.opacity);
    this.legend = document.createElement('div');
    this.legend.dataset.testid = 'segmentation-legend';
    this.root.append(title, this.sourceLabel, showLabel, opacityRow, this.legend);
    this.apply();
  }

  /** A mask arrived (source = job) or was taken away (undefined). */
  setSource(source: string | undefined): void {
    this.root.hidden = source === undefined;
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
