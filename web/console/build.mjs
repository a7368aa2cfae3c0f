// Builds the console: node build.mjs [--modules <node_modules>] [--out <dir>] [--watch]
// src/main.jsx -> <out>/assets/app-<hash>.js and .css (esbuild, minified,
// Preact's JSX), <out>/index.html pointing at them, <out>/assets/favicon.svg,
// and <out>/manifest.txt ("<path> <immutable 0|1>" per file) for
// cmake/embed.cmake. No CDN: everything the page loads is in <out>.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const modules = resolve(option('--modules', join(here, 'node_modules')));
const out = resolve(option('--out', join(here, 'dist')));
const require = createRequire(join(modules, 'noop.js'));
const esbuild = require('esbuild');

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
const result = await esbuild.build({
  entryPoints: [join(here, 'src/main.jsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  nodePaths: [modules],
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const files = Object.keys(result.metafile.outputs).map((file) => relative(out, resolve(file)));
const script = files.find((file) => file.endsWith('.js'));
const style = files.find((file) => file.endsWith('.css'));
const html = readFileSync(join(here, 'src/index.html'), 'utf8')
  .replace('%SCRIPT%', `/${script}`)
  .replace('%STYLE%', `/${style}`);
writeFileSync(join(out, 'index.html'), html);
copyFileSync(join(here, 'src/favicon.svg'), join(out, 'assets/favicon.svg'));
const manifest = [
  'index.html 0',
  'assets/favicon.svg 0',
  ...files.map((file) => `${file} 1`),
];
writeFileSync(join(out, 'manifest.txt'), manifest.join('\n') + '\n');
console.log(`web console: ${manifest.length} files in ${out}`);
