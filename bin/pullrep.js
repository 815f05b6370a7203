#!/usr/bin/env node
// The pullrep command. The code lives in dist/ (npm run build).
import('../dist/cli/main.js').catch((err) => {
  process.stderr.write(`pullrep: cannot start: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
});
