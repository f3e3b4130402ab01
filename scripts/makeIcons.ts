/**
 * Draws the Teams app icons, appPackage/color.png (192×192, white ferry on the accent colour) and
 * appPackage/outline.png (32×32, white on transparent, as Teams requires), and writes them as PNGs
 * with nothing but zlib. Run `npx tsx scripts/makeIcons.ts` after changing the drawing; the PNGs
 * are committed and a unit test checks they still match what this draws.
 *
 * The picture is a document standing on a boat hull above a wave, drawn from a few shapes in a
 * unit square and anti-aliased by 4×4 supersampling.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { crc32 } from './crc32';

/** The manifest's accentColor, also the colour icon's background. */
export const ACCENT = '#0E7490';

type Point = readonly [number, number];

const DOCUMENT: Point[] = [[0.36, 0.17], [0.53, 0.17], [0.63, 0.27], [0.63, 0.5], [0.36, 0.5]];
const HULL: Point[] = [[0.13, 0.56], [0.87, 0.56], [0.75, 0.74], [0.25, 0.74]];

function inPolygon(x: number, y: number, polygon: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inWave(x: number, y: number): boolean {
  if (x < 0.13 || x > 0.87) return false;
  const centre = 0.85 + 0.025 * Math.sin((2 * Math.PI * (x - 0.13)) / 0.245);
  return Math.abs(y - centre) < 0.03;
}

/** Is (x, y) of the unit square part of the picture? */
function inShape(x: number, y: number): boolean {
  return inPolygon(x, y, DOCUMENT) || inPolygon(x, y, HULL) || inWave(x, y);
}

/** Coverage of each pixel, 0..1, with the picture scaled by `scale` around the centre. */
function coverage(size: number, scale: number): Float64Array {
  const out = new Float64Array(size * size);
  const samples = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const u = (px + (sx + 0.5) / samples) / size;
          const v = (py + (sy + 0.5) / samples) / size;
          if (inShape(0.5 + (u - 0.5) / scale, 0.5 + (v - 0.5) / scale)) hits++;
        }
      }
      out[py * size + px] = hits / (samples * samples);
    }
  }
  return out;
}

/** RGBA pixels, row by row, of one icon. */
export function drawIcon(kind: 'color' | 'outline'): { size: number; rgba: Buffer } {
  const size = kind === 'color' ? 192 : 32;
  // The colour icon keeps its symbol inside Teams' central safe area; the outline uses the frame.
  const cover = coverage(size, kind === 'color' ? 0.72 : 1);
  const rgba = Buffer.alloc(size * size * 4);
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(ACCENT.slice(i, i + 2), 16));
  cover.forEach((c, i) => {
    if (kind === 'outline') {
      rgba.set([255, 255, 255, Math.round(c * 255)], i * 4);
    } else {
      const mix = (bg: number) => Math.round(bg + (255 - bg) * c);
      rgba.set([mix(r), mix(g), mix(b), 255], i * 4);
    }
  });
  return { size, rgba };
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit RGBA PNG, every scanline with filter type 0 (None). */
export function encodePng(width: number, height: number, rgba: Buffer): Buffer {
  if (rgba.length !== width * height * 4) throw new Error(`Expected ${width * height * 4} bytes of RGBA, got ${rgba.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type 6 (RGBA), deflate, adaptive filters, no interlace
  const raw = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

if (require.main === module) {
  const folder = join(__dirname, '..', 'appPackage');
  for (const kind of ['color', 'outline'] as const) {
    const { size, rgba } = drawIcon(kind);
    const file = join(folder, `${kind}.png`);
    writeFileSync(file, encodePng(size, size, rgba));
    console.log(`wrote ${file} (${size}×${size})`);
  }
}
