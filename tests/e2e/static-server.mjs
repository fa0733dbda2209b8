// A plain static file server for the separately hosted page (PINNING §5):
// node static-server.mjs ROOT   -> prints `listening on http://127.0.0.1:PORT`
// Serves ROOT's files (a directory URL ending in / serves its index.html),
// with content types and nothing else: no CORS, no CSP header (the page's
// meta CSP is what is tested). Logs one line per request: `GET /path STATUS`.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { join, normalize, extname } from 'node:path';

const ROOT = process.argv[2];
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml' };

const server = createServer(async (req, res) => {
  let status = 404, body = 'not found', type = 'text/plain';
  try {
    let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (p.endsWith('/')) p += 'index.html';
    const full = normalize(join(ROOT, p));
    if (full.startsWith(normalize(ROOT + '/')) && req.method === 'GET' && (await stat(full)).isFile() && TYPES[extname(full)]) {
      body = await readFile(full);
      type = TYPES[extname(full)];
      status = 200;
    }
  } catch { /* 404 */ }
  console.log(`${req.method} ${req.url} ${status}`);
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
