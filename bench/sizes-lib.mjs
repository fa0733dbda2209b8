import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import zlib from 'node:zlib';

function gzip9(buf) {
  const r = spawnSync('gzip', ['-9', '-n', '-c'], { input: buf, maxBuffer: 1 << 28 });
  return r.status === 0 ? r.stdout.length : zlib.gzipSync(buf, { level: 9 }).length;
}
const brotli = (buf) => zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length } }).length;
/** raw, gzip -9 and brotli (quality 11) byte counts of a file. */
export const measure = (file) => { const b = readFileSync(file); return { raw: b.length, gzip: gzip9(b), brotli: brotli(b) }; };
export const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });
