// What a stack viewer's webview asks of its EditorSession (editorSession.ts): one case per message of
// src/shared/protocol (webviewToHost.ts), already validated against the stack's size.

import * as vscode from 'vscode';
import type { WebviewToHost } from '../shared/protocol';
import { exactBuffer } from '../host/sliceServer';
import { cropBox } from '../shared/pixelBox';
import { describeOpenError } from './stackDocument';
import { labelViewInit, labelViewOf } from './labelView';
import { strokeApplied, walkthroughEvent } from './walkthrough';
import type { EditorSession } from './editorSession';

export function dispatchWebviewMessage(s: EditorSession, msg: WebviewToHost): void {
  const { document, host } = s;
  const labels = document.labels;
  switch (msg.type) {
    case 'ready': {
      const info = document.viewerInfo();
      s.sentLabels.clear(); // a (re)loaded webview holds no labels yet
      s.planes?.close(); // nor plane labels
      s.strokes = 0;
      s.sendClasses();
      s.sendStats();
      const labelView = labelViewOf(document.uri.fsPath);
      if (info) { void s.post({ type: 'init', info, initialSlice: 0, ...(labelView ? { labelView: labelViewInit(labelView) } : {}) }); walkthroughEvent('stackOpened'); }
      else void s.post({ type: 'error', message: document.errorMessage ?? 'This file cannot be shown.' });
      s.sendUndoState(); // after init: the webview checks its boxes against the stack's size
      s.preview?.resend();
      s.segmentation?.forget();
      return;
    }
    case 'requestSlice':
      s.server?.request(msg.z, msg.priority, msg.level ?? 1, msg.c ?? 0, msg.t ?? 0);
      return;
    case 'requestPixels': {
      // The exact readout: a small box of level 1, never the whole slice (over Remote-SSH 8 MB for 2048² uint16).
      const source = document.source;
      if (!source || !s.levels) return;
      const box = { x: msg.x, y: msg.y, width: msg.width, height: msg.height };
      const plane = msg.c || msg.t ? { c: msg.c, t: msg.t } : {};
      s.levels.readLevel(msg.z, 1, msg.c ?? 0, msg.t ?? 0).then(
        (l) => void s.post({ type: 'pixels', z: msg.z, ...box, dtype: source.info.dtype, data: exactBuffer(cropBox(l.data, l.width, box)), ...plane }),
        (e) => host.log.warn(`Pixels of slice ${msg.z} of ${s.key}: ${describeOpenError(e, document.uri.fsPath)}`),
      );
      return;
    }
    case 'sliceShown': {
      s.lastShown = msg.z;
      s.server?.focus(msg.z);
      const plane = { c: msg.c ?? 0, t: msg.t ?? 0 };
      if (plane.c !== (s.plane?.c ?? 0) || plane.t !== (s.plane?.t ?? 0)) {
        s.plane = plane;
        s.preview?.imageChanged(); // the preview trains on the shown channel: read it again
      }
      s.preview?.sliceShown(msg.z);
      if (s.segmentation) void s.segmentation.show(msg.z);
      s.wakeWaiters(msg.z);
      return;
    }
    case 'stroke': {
      s.strokes++;
      if (!labels) return;
      try {
        const result = labels.stroke(msg.z, { x: msg.x, y: msg.y, width: msg.width, height: msg.height }, msg.rle, msg.tool);
        if (result) { document.pushEdit(result, false); if (msg.tool !== 'eraser') strokeApplied(labels.volume.classCounts()); }
        if (result) s.planes?.labelsChanged(result.writes);
      } catch (e) {
        // Corrupt payload: nothing was applied; resend the slice so the webview drops what it drew.
        host.log.warn(`Ignored a stroke from the viewer of ${s.key}: ${e instanceof Error ? e.message : String(e)}`);
        s.resendLabels(msg.z);
      }
      return;
    }
    case 'setClasses': {
      if (!labels) return;
      try {
        const result = labels.setClasses(msg.classes);
        if (result) document.pushEdit(result, true);
      } catch (e) {
        void vscode.window.showWarningMessage(e instanceof Error ? e.message : String(e));
        s.sendClasses();
      }
      return;
    }
    case 'deleteClass':
      void s.deleteClass(msg.index);
      return;
    case 'setDisplay':
      document.setDisplay(msg.display);
      return;
    case 'setLivePreview':
      s.preview?.setEnabled(msg.enabled);
      return;
    case 'setSegmentationView':
      if (!s.segmentation) return;
      s.segmentation.view = msg.view;
      if (s.lastShown !== undefined) void s.segmentation.show(s.lastShown);
      return;
    case 'resyncLabels':
      s.resendLabels(msg.z, true);
      return;
    case 'showOverStack': {
      const v = labelViewOf(document.uri.fsPath);
      if (v) host.showOverStack(document.uri.fsPath, v);
      return;
    }
    case 'requestPlane':
      void s.planes?.request(msg.axis, msg.index, msg.level, msg.c ?? 0, msg.t ?? 0);
      return;
    case 'closePlanes':
      s.planes?.close();
      return;
    case 'planeStroke': {
      s.strokes++;
      if (!labels) return;
      try {
        const result = labels.planeStroke(msg.axis, msg.index, { x: msg.x, y: msg.y, width: msg.width, height: msg.height }, msg.rle, msg.tool);
        s.planeStrokeFrom = { axis: msg.axis, index: msg.index };
        // Echoed: the slices it crossed that the webview holds get patches (the XY view shows the stroke).
        if (result) { document.pushEdit(result, true); if (msg.tool !== 'eraser') strokeApplied(labels.volume.classCounts()); }
      } catch (e) {
        host.log.warn(`Ignored a plane stroke from the viewer of ${s.key}: ${e instanceof Error ? e.message : String(e)}`);
        s.planes?.labelsChanged('all'); // the plane view drops what it drew
      } finally {
        s.planeStrokeFrom = undefined;
      }
      return;
    }
    case 'openModelPanel':
      // The StackSeg view container (package.json viewsContainers.activitybar id "stackseg"): Model and Jobs.
      void vscode.commands.executeCommand('workbench.view.extension.stackseg');
      return;
  }
}
