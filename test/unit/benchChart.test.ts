import { strict as assert } from 'node:assert';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { benchChart, escapeXml } from '../../bench/benchChart';
import type { BenchResults, BenchRow } from '../../bench/benchResults';

/** bench/benchChart.ts draws the README's chart from bench/results/latest.json. */
describe('benchChart: the bench results as SVG', () => {
  const row = (route: string, name: string, kind: BenchRow['kind'], mibPerSecond: number, cpu: number, rss: number): BenchRow => ({
    route, name, kind, command: 'x', bytes: 1024 ** 3, seconds: 1024 / mibPerSecond, mibPerSecond,
    cpuSeconds: cpu, cpuSecondsPerGiB: cpu, peakRssMiB: rss, machineCpuSecondsPerGiB: cpu * 2, roundsMiBps: [mibPerSecond],
  });
  const results: BenchResults = {
    date: '2031-03-14T09:30:00.000Z',
    machine: { cpuModel: 'Test CPU <fast> & "cheap"', cores: 2, node: 'v20.0.0', kernel: '6.1.0' },
    sizeMiB: 1024,
    rounds: 3,
    fileferryCipher: 'aes128-gcm@openssh.com',
    rows: [
      row('S3→SFTP, loopback', 'ceiling: curl | ssh cat', 'ceiling', 240, 2.0, 10),
      row('S3→SFTP, loopback', 'ceiling: curl | sha256 | ssh cat', 'ceiling', 190, 3.0, 11),
      row('S3→SFTP, loopback', 'rclone <default> & "hash" \'check\'', 'peer', 130, 2.8, 76),
      row('S3→SFTP, loopback', 'FileFerry: fileferry copy', 'fileferry', 200, 3.1, 98),
      row('S3→FTP, loopback', 'ceiling: curl | curl -T', 'ceiling', 400, 1.5, 9),
      row('S3→FTP, loopback', 'FileFerry: fileferry copy', 'fileferry', 300, 0, 90),
    ],
    loop: { what: 'four 1 GiB transfers through the bot', transfers: 4, bytesEach: 1024 ** 3, requests: 500, p50Ms: 1.2, p99Ms: 15.5, maxMs: 40, idle: { requests: 100, p50Ms: 0.8, p99Ms: 2, maxMs: 3 }, aggregateMiBps: 180 },
    notes: ['rclone < 1.61 cannot choose a cipher'],
  };
  const svg = benchChart(results);
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false, isArray: (name) => name === 'rect' || name === 'text' }).parse(svg);
  const rects = parsed.svg.rect as Record<string, string>[];
  const texts = (parsed.svg.text as (string | Record<string, string>)[]).map((t) => (typeof t === 'string' ? t : String(t['#text'] ?? '')));

  it('is well-formed XML with an <svg> root in the SVG namespace', () => {
    assert.equal(XMLValidator.validate(svg), true);
    assert.equal(parsed.svg.xmlns, 'http://www.w3.org/2000/svg');
  });

  it('draws one throughput bar per row (and one CPU and one RSS bar), each naming its row', () => {
    const bars = rects.filter((r) => r.class === 'bar');
    assert.equal(bars.length, results.rows.length);
    assert.equal(rects.filter((r) => r.class === 'cpu').length, results.rows.length);
    assert.equal(rects.filter((r) => r.class === 'rss').length, results.rows.length);
    assert.deepEqual(bars.map((b) => b['data-row']), results.rows.map((r) => `${r.route} / ${r.name}`));
  });

  it('scales bars within a route: the fastest fills the column, the others in proportion', () => {
    const bars = rects.filter((r) => r.class === 'bar').map((b) => Number(b.width));
    assert.equal(bars[0], 300);
    assert.equal(bars[1], Number(((190 / 240) * 300).toFixed(1)));
    assert.equal(bars[4], 300, 'the FTP route has its own scale');
    assert.equal(bars[5], 225);
    // A zero figure still draws a visible sliver rather than nothing or NaN.
    const cpu = rects.filter((r) => r.class === 'cpu').map((b) => Number(b.width));
    assert.equal(cpu[5], 1);
  });

  it('colours FileFerry apart from the ceilings and peers', () => {
    const bars = rects.filter((r) => r.class === 'bar');
    assert.equal(bars[3]!.fill, bars[5]!.fill);
    assert.notEqual(bars[3]!.fill, bars[0]!.fill);
    assert.notEqual(bars[3]!.fill, bars[2]!.fill);
  });

  it('escapes labels: names, the machine, notes come back exactly as given', () => {
    assert.ok(!svg.includes('<fast>'), 'no raw markup from a label reaches the SVG');
    // The parser decodes entities, so the text equals the input when escaping was right.
    const decode = new XMLParser({ processEntities: true, htmlEntities: false });
    const round = decode.parse(`<t>${escapeXml(`rclone <default> & "hash" 'check'`)}</t>`).t;
    assert.equal(round, `rclone <default> & "hash" 'check'`);
    assert.ok(svg.includes('rclone &lt;default&gt; &amp; &quot;hash&quot; &apos;check&apos;'));
    assert.ok(texts.some((t) => t.includes('Test CPU')));
    assert.ok(svg.includes('rclone &lt; 1.61 cannot choose a cipher'));
  });

  it('prints the figures beside the bars, the route headings and the bot\'s latency', () => {
    assert.ok(texts.includes('240 MiB/s'));
    assert.ok(texts.includes('3.10'));
    assert.ok(texts.includes('98'));
    assert.ok(texts.includes('S3→SFTP, loopback') && texts.includes('S3→FTP, loopback'));
    assert.ok(texts.some((t) => /p99 15\.5 ms/.test(t)));
  });
});
