// Label view: a labels file, ground truth or job mask opened on its own (the host's init carries `labelView`).
// Values are drawn in class colours (0 black), the annotation panel is replaced by a read-only side bar with the
// legend and "Show over <stack>", and painting keys/pointer are not routed to the annotator.

import { CLASS_PALETTE } from '../src/shared/labels/classes';
import type { LabelViewInit } from '../src/shared/protocol';

const KIND_TEXT: Record<LabelViewInit['kind'], string> = {
  labels: 'Painted labels', truth: 'Ground truth', mask: 'Segmentation mask (job output)', uncertainty: 'Uncertainty map (job output, 255 = most doubtful)',
};

/** Packed little-endian RGBA word (bytes R, G, B, A in memory order) of #rrggbb. */
export function colorWord(hex: string): number {
  const n = Number.parseInt(hex.slice(1), 16);
  return (0xff000000 | ((n & 0xff) << 16) | (n & 0xff00) | ((n >> 16) & 0xff)) >>> 0;
}

/** Colour per value 0..65535: 0 black, class indices their colour, other values a palette colour. */
export function labelPalette(classes: LabelViewInit['classes']): Uint32Array {
  const table = new Uint32Array(65536);
  table.fill(0xff000000);
  for (let v = 1; v < 256; v++) table[v] = colorWord(CLASS_PALETTE[(v - 1) % CLASS_PALETTE.length]);
  for (const c of classes) if (c.index >= 0 && c.index < table.length) table[c.index] = colorWord(c.color);
  return table;
}

export class LabelViewMode {
  active = false;

  constructor(private readonly post: (m: { type: 'showOverStack' }) => void, private readonly setPalette: (t: Uint32Array | undefined) => void,
    private readonly annotationPanel: HTMLElement) {}

  activate(init: LabelViewInit, fileName: string): void {
    this.active = true;
    document.body.dataset.labelView = init.kind;
    this.annotationPanel.style.display = 'none'; // (a display rule on .label-panel beats [hidden])
    if (init.classes.length > 0) this.setPalette(labelPalette(init.classes));
    const bar = document.createElement('aside');
    bar.className = 'label-panel label-view';
    bar.dataset.testid = 'label-view';
    bar.setAttribute('aria-label', 'Label view');
    const h = document.createElement('h3');
    h.textContent = KIND_TEXT[init.kind];
    const p = document.createElement('p');
    p.textContent = `${fileName} is shown read-only${init.classes.length ? ', one colour per value' : ''}. Paint labels on the image stack itself.`;
    bar.append(h, p);
    if (init.classes.length > 0) {
      const legend = document.createElement('ul');
      legend.dataset.testid = 'label-view-legend';
      legend.className = 'legend';
      for (const c of init.classes.slice(0, 12)) {
        const li = document.createElement('li');
        const sw = document.createElement('span');
        sw.className = 'swatch';
        sw.style.background = c.color;
        li.append(sw, ` ${c.index}: ${c.name}`);
        legend.append(li);
      }
      bar.append(legend);
    }
    if (init.stack) {
      const button = document.createElement('button');
      button.dataset.testid = 'show-over-stack';
      button.textContent = `Show over ${init.stack}`;
      button.title = init.kind === 'labels' ? `Open ${init.stack}: its labels are drawn over it` : `Open ${init.stack} with these values shown over it as a segmentation`;
      button.addEventListener('click', () => this.post({ type: 'showOverStack' }));
      bar.append(button);
    }
    this.annotationPanel.after(bar);
  }
}
