/** Small helpers for writing HTML by hand: escaping and number formatting. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use in element content and in quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Tagged template that escapes every interpolated value; use `raw()` for HTML already built. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): string {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += (value instanceof RawHtml ? value.html : Array.isArray(value) ? value.map(asHtml).join('') : escapeHtml(value ?? '')) + strings[i + 1]!;
  });
  return out;
}

class RawHtml {
  constructor(readonly html: string) {}
}

/** Marks a string as trusted HTML for `html```. */
export function raw(markup: string): RawHtml {
  return new RawHtml(markup);
}

function asHtml(value: unknown): string {
  return value instanceof RawHtml ? value.html : escapeHtml(value ?? '');
}

/** A number for people: integers as they are, others to 4 significant digits, '—' for missing. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined) return '—';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const a = Math.abs(x);
  const s = a >= 1e-3 && a < 1e6 ? x.toPrecision(4) : x.toExponential(3);
  // Drop trailing zeros of the mantissa: 0.05000 → 0.05, 1.200e-5 → 1.2e-5.
  return s.replace(/(\.\d*?)0+(?=$|e)/, '$1').replace(/\.(?=$|e)/, '');
}

/** Seconds as '850 ms', '12.3 s' or '4 min 05 s'. */
export function formatSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${formatNumber(Number(s.toFixed(1)))} s`;
  const total = Math.round(s);
  return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, '0')} s`;
}
