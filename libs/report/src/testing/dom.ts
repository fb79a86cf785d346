/** Helpers for the report's tests: parse rendered markup and read Plot's axes back. */
import { JSDOM } from 'jsdom';

export function parse(markup: string): Document {
  return new JSDOM(`<!doctype html><body>${markup}</body>`).window.document;
}

/** The y tick labels of a Plot svg with their pixel position, in order. */
export function yTicks(doc: Document | Element): { label: string; y: number }[] {
  return [...doc.querySelectorAll('g[aria-label="y-axis tick label"] text')].map((t) => ({
    label: t.textContent ?? '',
    y: Number(/translate\([^,]+,([^)]+)\)/.exec(t.getAttribute('transform') ?? '')![1]),
  }));
}

/** The pixel y of a value on a linear y axis, interpolated from the labelled ticks. */
export function yPixelOf(doc: Document | Element, value: number): number {
  const ticks = yTicks(doc)
    .map((t) => ({ value: Number(t.label.replace('−', '-')), y: t.y }))
    .filter((t) => Number.isFinite(t.value));
  const [a, b] = [ticks[0]!, ticks[ticks.length - 1]!];
  return a.y + ((value - a.value) * (b.y - a.y)) / (b.value - a.value);
}

/** The x tick labels of a Plot svg with their pixel position, in order. */
export function xTicks(doc: Document | Element): { label: string; x: number }[] {
  return [...doc.querySelectorAll('g[aria-label="x-axis tick label"] text')].map((t) => ({
    label: t.textContent ?? '',
    x: Number(/translate\(([^,]+),/.exec(t.getAttribute('transform') ?? '')![1]),
  }));
}

/** The pixel x of a value on a linear x axis, interpolated from the labelled ticks. */
export function xPixelOf(doc: Document | Element, value: number): number {
  const ticks = xTicks(doc)
    .map((t) => ({ value: Number(t.label.replace('−', '-')), x: t.x }))
    .filter((t) => Number.isFinite(t.value));
  const [a, b] = [ticks[0]!, ticks[ticks.length - 1]!];
  return a.x + ((value - a.value) * (b.x - a.x)) / (b.value - a.value);
}

/** The marks (paths, circles, rects, lines, texts) under the mark groups tagged with `role`. */
export function marksOf(doc: Document | Element, role: string, run?: string): Element[] {
  const selector = `g[data-role="${role}"]${run === undefined ? '' : `[data-run="${run}"]`}`;
  return [...doc.querySelectorAll(selector)].flatMap((g) => [...g.querySelectorAll('path, circle, rect, line, text')]);
}
