// sealpass's small build (the browser build with open, bench/.build/web-open,
// --target web, opt-level "s") loaded in Node from bytes with initSync, so the
// small build is timed in Node as well as in the browsers.
import { readFileSync } from 'node:fs';
import * as m from '../.build/web-open/sealpass.js';
import { sealpassApi } from './sealpass-api.mjs';

export const meta = { id: 'sealpass-small', label: 'sealpass small build (wasm)', kind: 'self' };
export async function init() { m.initSync({ module: readFileSync(new URL('../.build/web-open/sealpass_bg.wasm', import.meta.url)) }); }
export const { seal, open, openBytes, seal2, open2 } = sealpassApi(() => m);
