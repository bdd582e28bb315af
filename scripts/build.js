// Builds dist/ from nothing, so a file deleted from src/ cannot linger in the package: the ESM
// build of everything, then a CommonJS build of the two entry points that `require()` may load.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
for (const project of ['tsconfig.json', 'tsconfig.cjs.json']) execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
// dist/ sits in a "type": "module" package: this marks the CommonJS build as such for Node and TypeScript.
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
