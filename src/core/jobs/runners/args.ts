// A JobSpec as `stackseg` command-line arguments: how runners hand a job to a worker process or a Slurm task.

import { planeArgs } from '../plane';
import type { JobSpec } from '../../../shared/jobs/spec';

function common(spec: JobSpec): string[] {
  const out: string[] = [];
  if (spec.truth) out.push('--truth', spec.truth);
  for (const [p, t] of Object.entries(spec.classMap ?? {})) out.push('--class', `${p}=${t}`);
  return out;
}

function paramArgs(spec: JobSpec): string[] {
  return Object.entries(spec.params).flatMap(([k, v]) => ['--set', `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`]);
}

/** Arguments for training (kind train) or train + segment (kind run) into jobDir. */
export function trainArgs(spec: JobSpec, jobDir: string, kind: 'train' | 'run' = spec.kind === 'segment' ? 'train' : spec.kind): string[] {
  return [kind, '--image', spec.image, ...(spec.labels ? ['--labels', spec.labels] : []), '--model', spec.model,
    ...paramArgs(spec), ...planeArgs(spec), '--out', jobDir, ...(kind === 'run' ? common(spec) : []), '--progress', 'json'];
}

/** Arguments for a segment job (a new job folder jobDir) with the model trained in spec.modelFrom. */
export function segmentArgs(spec: JobSpec, jobDir: string): string[] {
  return ['segment', '--job', spec.modelFrom!, '--image', spec.image, '--dir', jobDir, ...planeArgs(spec),
    ...(spec.slices ? ['--slices', `${spec.slices[0]}:${spec.slices[1]}`] : []), ...common(spec), '--progress', 'json'];
}

/** Arguments for any job kind. */
export function jobArgs(spec: JobSpec, jobDir: string): string[] {
  return spec.kind === 'segment' ? segmentArgs(spec, jobDir) : trainArgs(spec, jobDir);
}
