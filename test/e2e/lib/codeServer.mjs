// code-server (real VS Code 1.100.3 server) for the e2e suites: find or install it, package and install the
// extension, start it detached in its own process group on a free port, and kill the whole group afterwards.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CODE_SERVER_VERSION = '4.100.3';

/** Path of the code-server binary the installer puts in its cache dir. */
export function codeServerBin() {
  if (process.env.STACKSEG_CODE_SERVER) return process.env.STACKSEG_CODE_SERVER;
  const home = process.env.STACKSEG_E2E_HOME ?? join(homedir(), '.cache', 'stackseg-e2e');
  return join(home, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', '.bin', 'code-server');
}

/** Runs the idempotent installer (about 1.5 min the first time, under 1 s after) and returns the binary path. */
export function ensureCodeServer(repoRoot, log) {
  const bin = codeServerBin();
  if (process.env.STACKSEG_CODE_SERVER) {
    if (!existsSync(bin)) throw new Error(`STACKSEG_CODE_SERVER=${bin} does not exist`);
    return bin;
  }
  const started = Date.now();
  const r = spawnSync('bash', [join(repoRoot, 'scripts', 'install-code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`scripts/install-code-server.sh failed (exit ${r.status})`);
  if (Date.now() - started > 5000) log(`installed code-server in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return bin;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Environment that keeps code-server's config and data inside `dir` (never the user's ~/.config). */
function privateEnv(dir) {
  return {
    ...process.env,
    HOME: join(dir, 'home'),
    XDG_CONFIG_HOME: join(dir, 'xdg-config'),
    XDG_DATA_HOME: join(dir, 'xdg-data'),
    XDG_CACHE_HOME: join(dir, 'xdg-cache'),
  };
}

function dirFlags(dir) {
  return ['--user-data-dir', join(dir, 'user-data'), '--extensions-dir', join(dir, 'extensions')];
}

export function installExtension(bin, dir, vsix) {
  for (const d of ['home', 'user-data', 'extensions']) mkdirSync(join(dir, d), { recursive: true });
  const r = spawnSync(bin, [...dirFlags(dir), '--install-extension', vsix, '--force'], { encoding: 'utf8', env: privateEnv(dir), timeout: 120_000 });
  if (r.status !== 0 || !/successfully installed/i.test(r.stdout + r.stderr)) {
    throw new Error(`code-server --install-extension ${vsix} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
}

/**
 * Starts code-server detached (own process group) serving `workspace`; resolves once /healthz answers.
 * Returns { url, port, stop() }; stop() kills the process group and is safe to call twice.
 */
export async function startCodeServer({ bin, dir, workspace, log }) {
  const port = await freePort();
  const logFd = openSync(join(dir, 'code-server.log'), 'a');
  const args = [...dirFlags(dir), '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry',
    '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', workspace];
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', logFd, logFd], env: privateEnv(dir) });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const stop = () => killGroup(child.pid);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`code-server exited at start; see ${join(dir, 'code-server.log')}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { stop(); throw new Error(`code-server not healthy after 30 s; see ${join(dir, 'code-server.log')}`); }
    await new Promise((r) => setTimeout(r, 250));
  }
  log?.(`code-server ${CODE_SERVER_VERSION} on ${url} (pid ${child.pid})`);
  return { url, port, pid: child.pid, stop };
}

/** SIGTERM the process group, then SIGKILL whatever is left after 3 s. */
export function killGroup(pid) {
  if (!pid) return Promise.resolve();
  const alive = () => { try { process.kill(-pid, 0); return true; } catch { return false; } };
  try { process.kill(-pid, 'SIGTERM'); } catch { return Promise.resolve(); }
  return new Promise((resolve) => {
    const until = Date.now() + 3000;
    const tick = () => {
      if (!alive()) return resolve();
      if (Date.now() > until) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } return resolve(); }
      setTimeout(tick, 100);
    };
    tick();
  });
}

/** Synchronous last-resort kill for process 'exit' handlers. */
export function killGroupNow(pid) {
  try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
}
