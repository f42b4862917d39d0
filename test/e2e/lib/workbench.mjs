// Driving the code-server workbench with Debian's Chromium through playwright-core: launch, open files in the
// StackSeg custom editor (with retry when VS Code falls back to the text editor), reach the webview's inner frame.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.STACKSEG_CHROMIUM ?? '/usr/bin/chromium';

/** A fresh Chromium profile and HOME inside `dir`; returns { context, page, close }. */
export async function launchBrowser(dir) {
  const profile = join(dir, 'chromium-profile');
  const home = join(dir, 'chromium-home');
  mkdirSync(profile, { recursive: true });
  mkdirSync(home, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    env: { ...process.env, HOME: home },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, close: () => context.close().catch(() => {}) };
}

/** Opens the workbench for `workspace` (optionally with a payload) and waits until the explorer lists files. */
export async function openWorkbench(page, url, workspace, payload) {
  let target = `${url}/?folder=${encodeURIComponent(workspace)}`;
  if (payload) target += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  await page.goto(target, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
}

export async function waitForExplorerFile(page, name, timeout = 60_000) {
  await page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${name}"]`).first().waitFor({ timeout });
}

/**
 * Waits until the extension's contributions reach the workbench: its commands show up in the palette only once the
 * remote extension host has registered it, and opening a .tif before that falls back to the text editor.
 */
export async function waitForContributions(page, query, timeout = 60_000) {
  const until = Date.now() + timeout;
  for (;;) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill(`>${query}`);
    const found = await page.locator('.quick-input-list .monaco-list-row', { hasText: query }).first()
      .waitFor({ timeout: 3000 }).then(() => true, () => false);
    await page.keyboard.press('Escape');
    if (found) return;
    if (Date.now() > until) throw new Error(`no "${query}" commands in the palette after ${timeout / 1000} s: extension not registered`);
  }
}

/** Runs a command by its palette label (F1, type, Enter). */
export async function runCommand(page, label) {
  // A webview that takes focus (a slice painted, a dialog closed) can close the palette just opened: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ timeout: 10_000 });
      await input.fill(`>${label}`, { timeout: 5_000 });
      await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout: 15_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.waitForTimeout(500);
    }
  }
}

/**
 * Runs a command that opens a quick pick and picks the first row showing `rowText`. A webview taking focus can
 * close the pick just opened (its rows stay in the DOM, hidden): the command is then run again.
 */
export async function runCommandAndPick(page, label, rowText, { click = false } = {}) {
  for (let attempt = 1; ; attempt++) {
    await runCommand(page, label);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: rowText }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      if (click) await row.click({ timeout: 5_000 });
      else await page.keyboard.press('Enter');
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.waitForTimeout(500);
    }
  }
}

export async function closeAllEditors(page) {
  await runCommand(page, 'View: Close All Editors');
  await page.waitForTimeout(300);
  await dismissSaveDialogs(page);
}

/**
 * A test that failed halfway can leave an editor dirty; closing it then opens VS Code's modal "save changes?" dialog,
 * which would block every later test. Answer it with Don't Save (the tests' files are scratch copies).
 */
export async function dismissSaveDialogs(page) {
  for (let i = 0; i < 5; i++) {
    const dialog = page.locator('.monaco-dialog-box');
    if (!(await dialog.isVisible().catch(() => false))) return;
    const dontSave = dialog.locator('.monaco-button', { hasText: "Don't Save" }).first();
    if (await dontSave.isVisible().catch(() => false)) await dontSave.click().catch(() => {});
    else await page.keyboard.press('Escape');
    await page.waitForTimeout(300);
  }
}

/** Quick Open (Ctrl+P) `name` and Enter; results take 3-10 s to appear the first time. */
export async function quickOpen(page, name) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
}

/** The inner frame (our HTML) of the visible webview: page -> iframe.webview.ready -> iframe#active-frame. */
export async function viewerFrame(page, timeout = 30_000) {
  // While one webview closes and another opens, the iframe found can be detached before its frame is read
  // (contentFrame() is then null): look again until the timeout.
  const until = Date.now() + timeout;
  for (;;) {
    const left = Math.max(1000, until - Date.now());
    const outer = page.locator('iframe.webview.ready:visible').last();
    await outer.waitFor({ timeout: left });
    const outerFrame = await (await outer.elementHandle().catch(() => null))?.contentFrame();
    if (outerFrame) {
      const inner = outerFrame.locator('iframe#active-frame');
      await inner.waitFor({ state: 'attached', timeout: left }).catch(() => {});
      const frame = await (await inner.elementHandle({ timeout: 1000 }).catch(() => null))?.contentFrame();
      if (frame) return frame;
    }
    if (Date.now() >= until) throw new Error(`no StackSeg webview frame within ${timeout} ms`);
    await page.waitForTimeout(250);
  }
}

/** Where VS Code put the file: 'custom' (a webview editor), 'text' (binary-file fallback), or null (not yet). */
async function editorKind(page) {
  // Webview iframes live in an overlay at workbench level, not inside the editor group.
  const webview = await page.locator('iframe.webview.ready:visible').count();
  if (webview > 0) return 'custom';
  const fallback = await page.locator('.editor-group-container.active', { hasText: 'is either binary' }).count();
  return fallback > 0 ? 'text' : null;
}

/**
 * Opens `name` with Quick Open and waits for the StackSeg viewer. Opening before the extension's editor is
 * registered falls back to the text editor ("...either binary or uses an unsupported text encoding"): then close
 * and retry. Returns the viewer's inner frame.
 */
export async function openInStackViewer(page, name, { attempts = 4, log } = {}) {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    // A click in the explorer opens at once; Quick Open (used on retries) first waits 3-10 s for file search.
    const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${name}"]`).first();
    if (attempt % 2 === 1 && (await row.count()) > 0) await row.click();
    else await quickOpen(page, name);
    const until = Date.now() + 20_000;
    let kind = null;
    while (!kind && Date.now() < until) {
      kind = await editorKind(page);
      if (!kind) await page.waitForTimeout(200);
    }
    if (kind === 'custom') return viewerFrame(page);
    log?.(`  ${name}: ${kind === 'text' ? 'opened in the text editor' : 'no editor appeared'} (attempt ${attempt}), retrying`);
    await closeAllEditors(page);
    await page.waitForTimeout(1500 * attempt);
  }
  throw new Error(`${name} did not open in the StackSeg custom editor after ${attempts} attempts`);
}

/** The frame (of any webview) holding `selector`: webview iframes all live in one overlay, so search them all. */
export async function findFrame(page, selector, timeout = 30_000) {
  const until = Date.now() + timeout;
  for (;;) {
    for (const f of page.frames()) {
      if (await f.locator(selector).count().catch(() => 0)) return f;
    }
    if (Date.now() > until) throw new Error(`no webview frame with ${selector}`);
    await page.waitForTimeout(300);
  }
}
