// Keyboard of the viewer. Keys work wherever the focus is inside the webview (canvas, tool buttons, checkboxes,
// sliders of the side panel), except while typing in a text or number box: clicking "Live preview" and then
// pressing 2 must select class 2, not go nowhere (and leave the next stroke in the old class).
// Slice keys follow one direction: "down" and "right" go forward (the next, higher slice) like the mouse wheel
// and every document, "up" and "left" go back: ArrowDown/ArrowRight +1, PageDown +10, ArrowUp/ArrowLeft -1,
// PageUp -10, Home/End first/last.

/** What slice key `key` does: a step (+1 forward), 'first' or 'last'; undefined for other keys. */
export function sliceKey(key: string): number | 'first' | 'last' | undefined {
  switch (key) {
    case 'ArrowDown': case 'ArrowRight': return 1;
    case 'ArrowUp': case 'ArrowLeft': return -1;
    case 'PageDown': return 10;
    case 'PageUp': return -10;
    case 'Home': return 'first';
    case 'End': return 'last';
    default: return undefined;
  }
}

/** The focused element, as far as the keys care (plain data so the rule is unit-tested without a DOM). */
export interface KeyTarget {
  tag: string;
  type?: string;
  editable?: boolean;
  /** The slice slider: its arrows follow the viewer's direction, not the native one. */
  sliceSlider?: boolean;
}

const TEXT_INPUTS = new Set(['text', 'number', 'search', 'email', 'url', 'tel', 'password', 'date', 'time', 'datetime-local', 'month', 'week']);
const NAVIGATION = new Set(['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown', 'Home', 'End']);

/**
 * Who gets key `key` pressed on `t`: 'native' (typing in a box; the arrows of another slider or a select; Space and
 * Enter on a button or checkbox, which activate it) or 'viewer'.
 */
export function keyOwner(t: KeyTarget, key: string): 'native' | 'viewer' {
  const tag = t.tag.toUpperCase();
  if (t.editable || tag === 'TEXTAREA') return 'native';
  if (tag === 'INPUT' && TEXT_INPUTS.has((t.type ?? 'text').toLowerCase())) return 'native';
  if (NAVIGATION.has(key) && !t.sliceSlider && (tag === 'SELECT' || (tag === 'INPUT' && t.type === 'range'))) return 'native';
  if ((key === ' ' || key === 'Enter') && (tag === 'BUTTON' || tag === 'SELECT' || tag === 'VSCODE-BUTTON' || (tag === 'INPUT' && t.type !== 'range'))) return 'native';
  return 'viewer';
}

export function keyTargetOf(target: EventTarget | null, sliceSlider: HTMLElement): KeyTarget {
  if (!(target instanceof HTMLElement)) return { tag: 'BODY' };
  return {
    tag: target.tagName,
    type: target instanceof HTMLInputElement ? target.type : undefined,
    editable: target.isContentEditable,
    sliceSlider: target === sliceSlider,
  };
}

export interface KeyActions {
  /** Undo/redo painted at once; the key still reaches VS Code (not prevented), which runs the real undo. */
  undoRedo(e: KeyboardEvent): void;
  /** Annotation keys (classes 1-9, tools, brush size, ...); true when used. */
  annotation(e: KeyboardEvent): boolean;
  step(delta: number, keyTime: number): void;
  goTo(z: number, keyTime: number): void;
  readonly depth: number;
  fit(): void;
  oneToOne(): void;
  autoContrast(): void;
}

export function installKeys(sliceSlider: HTMLElement, a: KeyActions): void {
  document.addEventListener('keydown', (e) => {
    if (keyOwner(keyTargetOf(e.target, sliceSlider), e.key) === 'native') return;
    a.undoRedo(e);
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (a.annotation(e)) {
      e.preventDefault();
      return;
    }
    const t = e.timeStamp > 0 ? e.timeStamp : performance.now();
    const slice = sliceKey(e.key);
    let handled = true;
    if (slice === 'first') a.goTo(0, t);
    else if (slice === 'last') a.goTo(a.depth - 1, t);
    else if (slice !== undefined) a.step(slice, t);
    else {
      switch (e.key) {
        case 'f': case 'F': a.fit(); break;
        case '0': a.oneToOne(); break; // 1-9 select label classes
        case 'a': case 'A': a.autoContrast(); break;
        default: handled = false;
      }
    }
    if (handled) e.preventDefault();
  });
}
