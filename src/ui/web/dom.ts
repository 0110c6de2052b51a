// Small DOM and formatting helpers.
import { ApiError } from './api.js';

type Child = Node | string | number | null | undefined | false | readonly Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = String(v);
      else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
      else if (k === 'checked' && 'checked' in el) (el as HTMLInputElement).checked = Boolean(v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'object' ? (c as Node) : document.createTextNode(String(c)));
  }
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function fmtNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(3);
  return String(Number(v.toPrecision(6)));
}

export function fmtValue(v: number | string | null | undefined): string {
  if (typeof v === 'number') return fmtNumber(v);
  return v ?? '—';
}

export function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.floor(s % 60)}s`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs}h ${m % 60}m`;
  return `${Math.floor(hrs / 24)}d ${hrs % 24}h`;
}

export function fmtTime(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function age(iso: string): string {
  return fmtDuration(Date.now() - new Date(iso).getTime());
}

export function stateBadge(state: string, reason?: string | null): HTMLElement {
  return h('span', { class: `badge state-${state.toLowerCase()}`, 'data-state': state, title: reason ?? '' }, state);
}

/** Calls fn at most once per animation frame (and at least `minMs` apart). */
export function throttle(fn: () => void, minMs = 0): () => void {
  let scheduled = false;
  let last = 0;
  return () => {
    if (scheduled) return;
    scheduled = true;
    const wait = Math.max(0, last + minMs - performance.now());
    const go = () => requestAnimationFrame(() => {
      scheduled = false;
      last = performance.now();
      fn();
    });
    if (wait > 0) setTimeout(go, wait);
    else go();
  };
}

let liveRegion: HTMLElement | undefined;
/** A short message in the polite live region (read by screen readers, shown at the bottom). */
export function notify(message: string, kind: 'info' | 'error' = 'info'): void {
  liveRegion ??= document.getElementById('toast') ?? undefined;
  if (!liveRegion) return;
  const item = h('div', { class: `toast-item ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  liveRegion.appendChild(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

/** A button that acts on the second press within 4 s (for stop actions). */
export function confirmButton(label: string, confirmLabel: string, action: () => Promise<void>, attrs: Attrs = {}): HTMLButtonElement {
  let armed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const btn = h('button', { type: 'button', class: 'danger', ...attrs }, label);
  btn.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      btn.textContent = confirmLabel;
      btn.classList.add('armed');
      timer = setTimeout(() => {
        armed = false;
        btn.textContent = label;
        btn.classList.remove('armed');
      }, 4000);
      return;
    }
    clearTimeout(timer);
    armed = false;
    btn.disabled = true;
    btn.textContent = label;
    btn.classList.remove('armed');
    try {
      await action();
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}

/** The page has drawn what it loaded: the dashboard tests and its bench wait for this flag and read the time. */
export function markReady(): void {
  window.__sibylReadyAt = performance.now();
  window.__sibylReady = true;
}

/** A page's first load failed: its status line says so, as an alert (a 404 names what is missing). */
export function showLoadError(status: HTMLElement, err: unknown, kind: 'study' | 'trial', name: string): void {
  status.textContent = err instanceof ApiError && err.status === 404 ? `There is no ${kind} named "${name}".` : `Could not load the ${kind}: ${(err as Error).message}`;
  status.setAttribute('role', 'alert');
}
