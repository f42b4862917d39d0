// Entry of the stack viewer webview (bundled to dist/webview.js as a browser IIFE).
// Builds the UI, wires input events to the controller, and relays messages to and from the host.

import type { HostToWebview } from '../src/shared/protocol';
import { Annotator, type AnnotationPerf } from './annotator';
import { ChannelPanel } from './channelPanel';
import { ViewerController, type HostChannel, type PerfProbe } from './controller';
import { installKeys } from './keys';
import { LabelViewMode } from './labelView';
import { unpackMessage } from './levelCodec';
import { orthoAccess, OrthoViews } from './orthoViews';
import { buildViewerDom } from './ui';
import { ViewState } from './viewState';

declare function acquireVsCodeApi(): HostChannel;

declare global {
  interface Window {
    __stacksegPerf: PerfProbe & AnnotationPerf;
  }
}

function main(): void {
  const host = acquireVsCodeApi();
  const perf: PerfProbe & AnnotationPerf = { switches: [], fetches: [], draws: [], refined: [], superseded: 0, strokeFrames: [], patches: [] };
  window.__stacksegPerf = perf;
  const app = document.getElementById('app') ?? document.body;
  const dom = buildViewerDom(app);
  const state = new ViewState(host); // tool, brush, zoom, slice ... survive tab switches and reloads
  const viewer = new ViewerController(dom, host, perf, state);

  // Annotation: overlay canvases in the viewport, side panel to its right (styles: media/viewer/labels.css).
  const annotator = new Annotator(dom.viewport, dom.canvas, host, viewer, perf, state);
  const work = document.createElement('div');
  work.className = 'workarea';
  dom.viewport.replaceWith(work);
  work.append(dom.viewport, annotator.panel.root);
  // Labels/truth/mask files open read-only in class colours (webview/labelView.ts).
  const labelView = new LabelViewMode((m) => host.postMessage(m), (t) => viewer.setPalette(t), annotator.panel.root);
  // 3 views: XZ and YZ beside XY with crosshairs (webview/orthoViews.ts).
  const ortho = new OrthoViews(dom.viewport, dom.orthoButton, orthoAccess(viewer), host, state);
  viewer.listener = {
    viewChanged: (v) => { annotator.onViewChanged(v); ortho.xyViewChanged(); },
    sliceShown: (z) => { annotator.onSliceShown(z); ortho.sliceShown(); },
  };
  // Multi-channel / time-lapse stacks: the channel bar under the toolbar (webview/channelPanel.ts).
  viewer.onChannels = (cv) => void new ChannelPanel(cv, viewer, viewer.stackInfo!.dtype, dom.toolbar, dom.root, state);

  const dispatch = (msg: HostToWebview) => {
    if (msg.type === 'init' && msg.labelView && !labelView.active) labelView.activate(msg.labelView, msg.info.fileName);
    if (!ortho.handleMessage(msg) && !annotator.handleMessage(msg)) viewer.handleMessage(msg);
  };
  // Packed messages (levelCodec.ts) are unpacked asynchronously; while any is, later messages queue behind it so
  // the viewer sees them in the order the host sent them.
  let inbox = Promise.resolve();
  let unpacking = 0;
  window.addEventListener('message', (e: MessageEvent<HostToWebview>) => {
    const msg = e.data;
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
    if (msg.type !== 'packed' && unpacking === 0) return dispatch(msg);
    unpacking++;
    const ready = msg.type === 'packed' ? unpackMessage(msg) : Promise.resolve(msg);
    inbox = inbox.then(() => ready).then((m) => { if (m) dispatch(m); }).catch((err) => console.error(err)).finally(() => { unpacking--; });
  });

  installKeys(dom.sliceSlider, {
    undoRedo: (e) => annotator.undoRedoKey(e),
    annotation: (e) => !labelView.active && annotator.keyDown(e),
    step: (d, t) => viewer.step(d, t),
    goTo: (z, t) => viewer.goTo(z, t),
    get depth() { return viewer.depth; },
    fit: () => viewer.zoom.fit(),
    oneToOne: () => viewer.zoom.oneToOne(),
    autoContrast: () => viewer.autoContrast(),
  });

  // Slice slider and number box (1-based).
  dom.sliceSlider.addEventListener('input', () => viewer.goTo(Number(dom.sliceSlider.value) - 1, undefined));
  const commitSliceInput = () => {
    const n = Number(dom.sliceInput.value);
    if (dom.sliceInput.value.trim() !== '' && Number.isFinite(n)) viewer.goTo(Math.round(n) - 1, undefined);
    dom.sliceInput.value = String(viewer.currentTarget + 1);
  };
  dom.sliceInput.addEventListener('change', commitSliceInput);
  dom.sliceInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      commitSliceInput();
      dom.canvas.focus();
    }
  });

  // View buttons.
  dom.fitButton.addEventListener('click', () => viewer.zoom.fit());
  dom.oneToOneButton.addEventListener('click', () => viewer.zoom.oneToOne());

  // Contrast.
  dom.autoButton.addEventListener('click', () => viewer.autoContrast());
  for (const input of [dom.levelMin, dom.levelMax]) {
    input.addEventListener('change', () => viewer.windowFromInputs());
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') viewer.windowFromInputs(); });
  }

  // Mouse: wheel = slices, ctrl/cmd+wheel = zoom about the cursor, drag = pan, move = pixel readout.
  const local = (e: MouseEvent) => {
    const r = dom.viewport.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  dom.viewport.addEventListener('wheel', (e) => {
    e.preventDefault();
    const p = local(e);
    viewer.wheel(e, p.x, p.y);
  }, { passive: false });
  let drag: { id: number; x: number; y: number; sx: number; sy: number } | undefined;
  dom.viewport.addEventListener('pointerdown', (e) => {
    if (e.shiftKey && e.button === 0 && ortho.clickXY(local(e).x, local(e).y)) return; // 3 views: move the crosshair
    if (!labelView.active && annotator.pointerDown(e)) {
      dom.canvas.focus();
      return;
    }
    if (e.button !== 0 && e.button !== 1) return;
    drag = { id: e.pointerId, x: e.clientX, y: e.clientY, sx: e.clientX, sy: e.clientY };
    dom.viewport.setPointerCapture(e.pointerId);
    dom.viewport.classList.add('panning');
    dom.canvas.focus();
  });
  dom.viewport.addEventListener('pointermove', (e) => {
    if (drag && e.pointerId === drag.id) {
      viewer.zoom.panBy(e.clientX - drag.x, e.clientY - drag.y);
      drag = { ...drag, x: e.clientX, y: e.clientY };
    }
    const p = local(e);
    viewer.pointerAt(p.x, p.y);
  });
  const endDrag = (e: PointerEvent) => {
    if (!drag || e.pointerId !== drag.id) return;
    if (e.type === 'pointerup' && Math.hypot(e.clientX - drag.sx, e.clientY - drag.sy) < 4) ortho.clickXY(local(e).x, local(e).y); // a click, not a pan
    drag = undefined;
    dom.viewport.classList.remove('panning');
  };
  dom.viewport.addEventListener('pointerup', endDrag);
  dom.viewport.addEventListener('pointercancel', endDrag);
  dom.viewport.addEventListener('pointerleave', () => viewer.pointerLeft());

  new ResizeObserver(() => viewer.zoom.onResize()).observe(dom.viewport);

  dom.canvas.focus();
  host.postMessage({ type: 'ready' });
}

main();
