import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** pullrep's version, from its package.json (found from src/ and dist/ alike). */
const pkgFile = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
export const VERSION = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string }).version;
