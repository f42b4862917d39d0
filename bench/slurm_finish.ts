// Merge-free Slurm finishing at full slice size: a 2048x2048xD foam stack (bench/big_phantom.ts) segmented on Slurm
// with N chunk tasks writing into the preallocated mask; reports the time from the last chunk's end to the job done
// (job.json timings.afterLastChunk, finish) and, for comparison, what a serial merge pass over the same mask costs
// (read every page, write a new file: what the removed merge step did).
//   scripts/slurm-cluster.sh start && npm run build && SLURM_CONF=/tmp/stackseg-slurm/slurm.conf \
//     node bench/run.mjs slurm_finish [--depth 16,64] [--chunks 4] [--model threshold]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStack } from '../src/core/tiff';
import { StackWriter } from '../src/core/tiff/writer';
import { loadFoam, writeBigStack } from './big_phantom';

const CLI = resolve(__dirname, '../../dist/cli.js');
const arg = (k: string, d: string) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : d; };
const depths = arg('depth', '16,64').split(',').map(Number), chunks = arg('chunks', '4'), model = arg('model', 'threshold');

async function serialMergeSeconds(mask: string, out: string): Promise<number> {
  const t0 = performance.now();
  const src = await openStack(mask, { cacheBytes: 0 });
  const w = await StackWriter.create(out, { width: src.info.width, height: src.info.height, depth: src.info.depth, dtype: 'uint8' });
  for (let z = 0; z < src.info.depth; z++) await w.appendSlice((await src.readSlice(z)) as Uint8Array);
  await w.close();
  await src.close();
  return (performance.now() - t0) / 1000;
}

(async () => {
  const foam = await loadFoam();
  for (const depth of depths) {
    const dir = mkdtempSync(join(tmpdir(), 'stackseg-finish-'));
    try {
      const { image, truth } = await writeBigStack(dir, foam, 8, depth);
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [CLI, 'run', '--image', image, '--model', model, '--runner', 'slurm', '--chunks', chunks,
        '--truth', truth, '--class', '2=1', '--out', join(dir, 'job')], { encoding: 'utf8' });
      if (r.status !== 0) { console.error(`kept ${dir}: ${r.stderr}`); continue; }
      const wall = (performance.now() - t0) / 1000;
      const rec = JSON.parse(readFileSync(join(dir, 'job', 'job.json'), 'utf8'));
      const merge = await serialMergeSeconds(join(dir, 'job', 'mask.tif'), join(dir, 'merged.tif'));
      console.log(JSON.stringify({ size: `2048x2048x${depth}`, model, chunks: Number(chunks), wallSeconds: +wall.toFixed(2),
        segmentSeconds: rec.timings.segment, afterLastChunkSeconds: rec.timings.afterLastChunk, finishSeconds: +rec.timings.finish.toFixed(4),
        serialMergePassSeconds: +merge.toFixed(2), meanF1: rec.summary?.meanF1 }));
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      console.error(`kept ${dir}: ${(e as Error).message}`);
    }
  }
})().catch((e) => { console.error(e); process.exit(1); });
