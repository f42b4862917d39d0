// Evaluate's class mapping: which mask class is compared with which ground-truth value. The values each stack holds
// are detected from a few slices; when they differ, a mapping is proposed from the class names (background -> 0) or
// the user is asked for one, so an empty box never silently compares {1,2} with {0,1}. Pure: no vscode import.

import { openStack } from '../../core/tiff';

export type MappingProposal =
  | { kind: 'same'; values: number[] }
  | { kind: 'proposed'; pairs: [number, number][]; why: string }
  | { kind: 'ask'; why: string }
  | { kind: 'refuse'; message: string };

const BACKGROUND = /^(background|bg|air|void|voids|pore|pores|empty|none|unlabel+ed)$/i;

const list = (v: number[]) => `{${v.join(', ')}}`;

export function formatPairs(pairs: [number, number][]): string {
  return pairs.map(([p, t]) => `${p}=${t}`).join(', ');
}

export function parseMapping(text: string): [number, number][] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((p) => {
    const m = /^(\d+)\s*=\s*(\d+)$/.exec(p);
    if (!m) throw new Error(`"${p}" is not prediction=truth (e.g. 2=1)`);
    return [Number(m[1]), Number(m[2])];
  });
}

/**
 * mask, truth: the values found in each stack (sorted); classes: the stack's class names. Equal sets compare as they
 * are; sets of the same size map in order, a background-named class to 0; anything else needs the user's pairs.
 */
export function proposeMapping(mask: number[], truth: number[], classes: readonly { index: number; name: string }[], names = { mask: 'the mask', truth: 'the truth' }): MappingProposal {
  if (mask.length === 0) return { kind: 'refuse', message: `${names.mask} holds no classes in the slices read: nothing to evaluate.` };
  if (truth.length < 2) return { kind: 'refuse', message: `${names.truth} holds only the value ${truth[0] ?? '—'} in the slices read: it is not a ground-truth segmentation (it needs at least two classes).` };
  if (mask.length === truth.length && mask.every((v, i) => v === truth[i])) return { kind: 'same', values: mask };
  const nameOf = (v: number) => classes.find((c) => c.index === v)?.name;
  const described = mask.map((v) => (nameOf(v) ? `${v} (${nameOf(v)})` : String(v))).join(', ');
  const sets = `${names.mask} holds classes ${described}; ${names.truth} holds values ${list(truth)}`;
  if (mask.length !== truth.length) return { kind: 'ask', why: `${sets}. They do not pair one to one: give the pairs to compare.` };
  const restMask = [...mask], restTruth = [...truth];
  const pairs: [number, number][] = [];
  const bg = mask.find((v) => BACKGROUND.test(nameOf(v) ?? ''));
  if (bg !== undefined) {
    const t = truth.includes(0) ? 0 : truth[0];
    pairs.push([bg, t]);
    restMask.splice(restMask.indexOf(bg), 1);
    restTruth.splice(restTruth.indexOf(t), 1);
  }
  restMask.forEach((v, i) => pairs.push([v, restTruth[i]]));
  pairs.sort((a, b) => a[0] - b[0]);
  return { kind: 'proposed', pairs, why: `${sets}. Proposed: ${formatPairs(pairs)}${bg !== undefined ? ` (${nameOf(bg)} -> ${pairs.find((p) => p[0] === bg)![1]})` : ' (in order)'}.` };
}

/** Why `text` cannot be used as the mapping for these value sets, or undefined when it can. */
export function mappingProblem(text: string, proposal: MappingProposal, mask: number[], truth: number[]): string | undefined {
  let pairs: [number, number][];
  try { pairs = parseMapping(text); } catch (e) { return (e as Error).message; }
  if (pairs.length === 0) return proposal.kind === 'same' ? undefined : 'the mask and the truth hold different values: give pairs like 1=0, 2=1';
  const bad = pairs.find(([p, t]) => !mask.includes(p) || !truth.includes(t));
  if (bad) return `${bad[0]}=${bad[1]}: the mask holds ${list(mask)}, the truth ${list(truth)}`;
  return undefined;
}

export interface StackValues { values: number[]; width: number; height: number; depth: number; dtype: string }

/** Distinct values of an integer stack, from up to `maxSlices` evenly spaced slices (cheap on big stacks). */
export async function detectValues(path: string, maxSlices = 6): Promise<StackValues> {
  const s = await openStack(path, { cacheBytes: 0 });
  try {
    const { width, height, depth, dtype } = s.info;
    if (!/^u?int(8|16)$/.test(dtype)) throw new Error(`${path} holds ${dtype} values; a segmentation holds integer classes (uint8 or uint16)`);
    const seen = new Uint8Array(65536 * 2);
    const offset = dtype.startsWith('int') ? 65536 : 0;
    const n = Math.min(depth, maxSlices);
    for (let k = 0; k < n; k++) {
      const z = n === 1 ? 0 : Math.round((k * (depth - 1)) / (n - 1));
      const data = await s.readSlice(z);
      for (let i = 0; i < data.length; i++) seen[(data[i] as number) + offset] = 1;
    }
    const values: number[] = [];
    for (let v = 0; v < seen.length; v++) if (seen[v]) values.push(v - offset);
    return { values, width, height, depth, dtype };
  } finally {
    await s.close();
  }
}
