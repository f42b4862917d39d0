// The one way StackSeg checks a message from a webview (src/shared/protocol, src/shared/modelPanelProtocol.ts): a
// table of the keys each message type may carry, openEnvelope for the object / type / extra-key checks, then one
// case per type built from these small checks. Nothing here throws; a failed check gives a reason for the log.

/** The outcome of parsing one message: the typed message, or why it was refused. */
export type Parsed<T> = { ok: true; message: T } | { ok: false; reason: string };

export function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** An integer lo <= v < end. */
export function isIntIn(v: unknown, lo: number, end: number): v is number {
  return isInt(v) && v >= lo && v < end;
}

/** One of `options` (a string enum). */
export function isOneOf<T extends string>(v: unknown, options: readonly T[]): v is T {
  return typeof v === 'string' && (options as readonly string[]).includes(v);
}

/** A value for a reason: strings quoted and cut at 40 characters, other values by their type. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}

/** Binary payloads arrive as ArrayBuffer or as a typed array depending on the VS Code version. */
export function bytesOf(v: unknown): Uint8Array | undefined {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return undefined;
}

/** Keys of `raw` that `allowed` does not list. */
export function extraKeys(raw: Record<string, unknown>, allowed: readonly string[]): string[] {
  return Object.keys(raw).filter((k) => !allowed.includes(k));
}

/** A message whose type is known and whose keys are all allowed for that type. */
export interface Envelope<T extends string> {
  type: T;
  fields: Record<string, unknown>;
}

const unexpectedFields = (extra: string[], type: string) => `unexpected field(s) ${extra.join(', ')} in ${type}`;

/**
 * The checks every webview message gets first: an object, a `type` that `keys` lists (own keys only, so
 * "__proto__" or "toString" are unknown), no key beyond that type's list (typos and injected fields do not pass
 * silently). `extraReason` words the last refusal.
 */
export function openEnvelope<T extends string>(
  raw: unknown, keys: Record<T, readonly string[]>, extraReason: (extra: string[], type: T) => string = unexpectedFields,
): Envelope<T> | { reason: string } {
  if (!isRecord(raw)) return { reason: `message must be an object, got ${Array.isArray(raw) ? 'array' : describe(raw)}` };
  const type = raw.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(keys, type)) return { reason: `unknown message type ${describe(type)}` };
  const extra = extraKeys(raw, keys[type as T]);
  if (extra.length > 0) return { reason: extraReason(extra, type as T) };
  return { type: type as T, fields: raw };
}
