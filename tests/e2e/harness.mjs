// What every e2e script shares: its environment, one `ok`/`FAIL` line per
// check and the closing `N passed, N failed` (an exception is one more
// failure, and the summary is still printed).
export const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error('missing env ' + k);
  return v;
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// checker(BROWSER[, prefix]) -> { check(name, ok, detail), finish() };
// every line names the browser, then `prefix`; finish() prints the summary
// and exits (status 1 on any failure).
export function checker(browser, prefix = '') {
  let passed = 0, failed = 0;
  const check = (name, ok, detail = '') => {
    if (ok) { passed++; console.log(`ok   [${browser}] ${prefix}${name}`); }
    else { failed++; console.log(`FAIL [${browser}] ${prefix}${name}${detail ? ': ' + detail : ''}`); }
  };
  const finish = () => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  };
  for (const ev of ['uncaughtException', 'unhandledRejection']) {
    process.on(ev, (e) => {
      failed++;
      console.log(`FAIL [${browser}] ${prefix}aborted: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' ') : e}`);
      finish();
    });
  }
  return { check, finish };
}
