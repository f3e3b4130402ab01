import type { BenchResults, BenchRow, RowKind } from './benchResults';

/**
 * The bench's results as one SVG: a block per route, a row per run, and per row three bars side
 * by side, each scaled to the largest of its route: MiB/s (longer is better), CPU s/GiB and
 * peak RSS (shorter is better), with the figure printed beside each bar. Pure: results in, text
 * out, so the README's chart is exactly what the JSON says and a test can check it.
 */

const WIDTH = 1000;
const LABEL_W = 330;
const COLUMNS = [
  { key: 'mibPerSecond', title: 'MiB/s (more is better)', x: 340, w: 300, unit: (v: number) => `${v.toFixed(0)} MiB/s` },
  { key: 'cpuSecondsPerGiB', title: 'CPU s/GiB (less is better)', x: 670, w: 130, unit: (v: number) => v.toFixed(2) },
  { key: 'peakRssMiB', title: 'peak RSS MiB (less)', x: 850, w: 100, unit: (v: number) => v.toFixed(0) },
] as const;
const ROW_H = 22;
const BAR_H = 14;

const COLOURS: Record<RowKind, string> = {
  fileferry: '#1f6feb',
  ceiling: '#6e7781',
  peer: '#d29922',
  reference: '#b1bac4',
};

/** Text for an SVG text node or attribute: the five characters XML gives meaning to, escaped. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const num = (v: number): string => (Number.isFinite(v) ? Number(v.toFixed(1)).toString() : '0');

export function benchChart(results: BenchResults): string {
  const out: string[] = [];
  let y = 0;
  const line = (s: string): void => void out.push(s);
  const text = (x: number, at: number, s: string, attrs = ''): void =>
    line(`<text x="${num(x)}" y="${num(at)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(s)}</text>`);

  y += 24;
  text(10, y, `FileFerry bench, ${results.date.slice(0, 10)}: ${results.sizeMiB} MiB per loopback run, best of ${results.rounds}`, 'class="title"');
  y += 18;
  const m = results.machine;
  text(10, y, `${m.cpuModel}, ${m.cores} cores, Node ${m.node}, Linux ${m.kernel}${results.fileferryCipher ? `; SSH cipher ${results.fileferryCipher}` : ''}`, 'class="note"');
  y += 16;
  let lx = 10;
  for (const kind of Object.keys(COLOURS) as RowKind[]) {
    line(`<rect class="legend" x="${lx}" y="${y - 9}" width="10" height="10" fill="${COLOURS[kind]}"/>`);
    text(lx + 14, y, kind, 'class="note"');
    lx += 100;
  }

  const routes = [...new Set(results.rows.map((r) => r.route))];
  for (const route of routes) {
    const rows = results.rows.filter((r) => r.route === route);
    y += 30;
    text(10, y, route, 'class="route"');
    for (const c of COLUMNS) text(c.x, y, c.title, 'class="note"');
    const max = Object.fromEntries(COLUMNS.map((c) => [c.key, Math.max(...rows.map((r) => r[c.key]), 1e-9)]));
    for (const row of rows) {
      y += ROW_H;
      text(LABEL_W - 6, y, row.name, 'class="label" text-anchor="end"');
      for (const c of COLUMNS) {
        const value = row[c.key];
        const w = Math.max(1, (value / max[c.key]!) * c.w);
        const cls = c.key === 'mibPerSecond' ? 'bar' : c.key === 'cpuSecondsPerGiB' ? 'cpu' : 'rss';
        line(`<rect class="${cls}" data-row="${escapeXml(rowId(row))}" x="${c.x}" y="${num(y - BAR_H + 3)}" width="${num(w)}" height="${BAR_H}" fill="${COLOURS[row.kind]}"${c.key === 'mibPerSecond' ? '' : ' fill-opacity="0.55"'}/>`);
        text(c.x + w + 4, y, c.unit(value), 'class="value"');
      }
    }
  }
  if (results.loop) {
    const l = results.loop;
    y += 34;
    text(10, y, `Bot responsiveness: ${l.what}`, 'class="route"');
    y += 18;
    text(10, y, `/healthz p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms, max ${l.maxMs.toFixed(1)} ms over ${l.requests} requests (idle: p99 ${l.idle.p99Ms.toFixed(1)} ms${l.bystander ? `; a bystander process: p99 ${l.bystander.p99Ms.toFixed(1)} ms` : ''}); ${l.aggregateMiBps.toFixed(0)} MiB/s in all`, 'class="value"');
  }
  for (const note of results.notes) {
    y += 16;
    text(10, y, note, 'class="note"');
  }
  y += 14;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${num(y)}" viewBox="0 0 ${WIDTH} ${num(y)}" font-family="sans-serif">`,
    '<style>.title{font-size:15px;font-weight:bold}.route{font-size:13px;font-weight:bold}.label,.value{font-size:11px}.note{font-size:10px;fill:#57606a}</style>',
    `<rect x="0" y="0" width="${WIDTH}" height="${num(y)}" fill="#ffffff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

function rowId(row: BenchRow): string {
  return `${row.route} / ${row.name}`;
}
