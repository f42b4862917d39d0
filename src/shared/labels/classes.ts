// Label classes and display settings, stored in `<stem>.stackseg.json` beside the image (docs/formats.md):
// { format: "stackseg-settings", version: 1, classes: [{index, name, color}], display: {labelOpacity, showLabels} }.
// Other keys in an existing file (written by other tools or later versions) are kept on save.

import { StackSegError } from '../errors';

export interface LabelClass {
  /** Value in the label stack, 1..255 (0 = unlabeled). */
  index: number;
  name: string;
  /** '#rrggbb' */
  color: string;
}

export interface DisplaySettings {
  /** 0..1 */
  labelOpacity: number;
  showLabels: boolean;
}

export interface StackSettings {
  classes: LabelClass[];
  display: DisplaySettings;
}

// The classes of a new stack and of the CLI's sample, so overlays match everywhere.
export const DEFAULT_CLASSES: readonly LabelClass[] = [
  { index: 1, name: 'background', color: '#3b82f6' },
  { index: 2, name: 'foreground', color: '#f59e0b' },
];

export const DEFAULT_DISPLAY: DisplaySettings = { labelOpacity: 0.5, showLabels: true };

/** Colours offered for new classes, in order (distinct on dark and light themes). */
export const CLASS_PALETTE = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#a855f7', '#ec4899', '#14b8a6', '#eab308', '#6366f1', '#84cc16'];

export const MAX_CLASS_NAME = 64;

export function defaultSettings(): StackSettings {
  return { classes: DEFAULT_CLASSES.map((c) => ({ ...c })), display: { ...DEFAULT_DISPLAY } };
}

/** Checks a class list: indices 1..255 unique, names 1..64 chars, colours #rrggbb. Returns the reason or undefined. */
export function classListProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'classes must be an array';
  if (value.length > 255) return 'at most 255 classes';
  const seen = new Set<number>();
  for (const c of value as unknown[]) {
    if (typeof c !== 'object' || c === null) return 'each class must be an object';
    const { index, name, color } = c as Record<string, unknown>;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 1 || index > 255) return `class index must be an integer 1..255, got ${String(index)}`;
    if (seen.has(index)) return `class index ${index} is used twice`;
    seen.add(index);
    if (typeof name !== 'string' || name.trim().length === 0 || name.length > MAX_CLASS_NAME) return `class ${index} needs a name of 1..${MAX_CLASS_NAME} characters`;
    if (typeof color !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(color)) return `class ${index} colour must be #rrggbb, got ${JSON.stringify(color)}`;
  }
  return undefined;
}

/** Clean copies of valid classes, sorted by index. */
export function normalizeClasses(classes: readonly LabelClass[]): LabelClass[] {
  return classes.map(({ index, name, color }) => ({ index, name: name.trim(), color: color.toLowerCase() })).sort((a, b) => a.index - b.index);
}

/**
 * Reads the settings JSON text. Throws StackSegError (naming the file) when it is not valid; the caller falls back
 * to defaults and warns. Missing display keys get defaults.
 */
export function parseSettings(text: string, file: string): StackSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new StackSegError(`is not valid JSON (${(e as Error).message})`, { file, hint: 'fix or delete it; default classes are used until then' });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new StackSegError('is not a JSON object', { file, hint: 'fix or delete it; default classes are used until then' });
  const r = raw as Record<string, unknown>;
  const classes = r.classes === undefined ? defaultSettings().classes : r.classes;
  const problem = classListProblem(classes);
  if (problem) throw new StackSegError(`has bad classes: ${problem}`, { file, hint: 'fix or delete it; default classes are used until then' });
  const d = (typeof r.display === 'object' && r.display !== null ? r.display : {}) as Record<string, unknown>;
  const opacity = typeof d.labelOpacity === 'number' && d.labelOpacity >= 0 && d.labelOpacity <= 1 ? d.labelOpacity : DEFAULT_DISPLAY.labelOpacity;
  const show = typeof d.showLabels === 'boolean' ? d.showLabels : DEFAULT_DISPLAY.showLabels;
  return { classes: normalizeClasses(classes as LabelClass[]), display: { labelOpacity: opacity, showLabels: show } };
}

/** The JSON text to save; `previous` (the parsed old file, if any) keeps keys this code does not own. */
export function serializeSettings(s: StackSettings, previous?: Record<string, unknown>): string {
  const out = { ...(previous ?? {}), format: 'stackseg-settings', version: 1, classes: normalizeClasses(s.classes), display: s.display };
  return JSON.stringify(out, null, 2) + '\n';
}

/** The smallest unused index and the next palette colour, for "Add class". */
export function nextClass(classes: readonly LabelClass[]): LabelClass | undefined {
  const used = new Set(classes.map((c) => c.index));
  for (let k = 1; k < 256; k++) {
    if (!used.has(k)) return { index: k, name: `class ${k}`, color: CLASS_PALETTE[(k - 1) % CLASS_PALETTE.length] };
  }
  return undefined;
}
