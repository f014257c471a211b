#!/usr/bin/env node
// Bundles the command line after tsc: dist/cli/main.js (the `eucanet` bin)
// becomes one ES module holding the code every command loads, and each
// command's own code (apply, agent, demo, ...) one chunk beside it, loaded
// when that command runs (esbuild, code splitting). A cold `eucanet apply`
// then loads a few files instead of about a hundred modules, each resolved,
// read, compiled and linked on its own (issue 19: the cold command line).
//
// Only the package's own code is bundled; its dependencies stay imports
// (loaded by the chunk that needs them). The library entry (dist/index.js and
// every other module tsc wrote) is left as it is.
//
// Each module keeps its own import.meta.url: a module that finds a file next
// to itself (the addon under the package root, the demo's responder script,
// package.json) sees the URL of the file tsc wrote, computed from the bundle's
// own location, so the package stays relocatable. All output files are in
// dist/cli/, next to the file they replace, so one relative path holds for all.
//
//   node scripts/bundle-cli.mjs     (after tsc; `npm run build:ts` runs both)
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist/cli');
const entry = join(outdir, 'main.js');
export const BUNDLE_MARK = '// eucanet: bundled by scripts/bundle-cli.mjs';

if (readFileSync(entry, 'utf8').includes(BUNDLE_MARK)) {
  console.error('bundle-cli: dist/cli/main.js is already the bundle: run tsc first (npm run build:ts)');
  process.exit(1);
}
for (const f of readdirSync(outdir)) if (/^_chunk-.*\.js(\.map)?$/.test(f)) rmSync(join(outdir, f));

/** @type {import('esbuild').Plugin} */
const ownUrls = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/dist\/.*\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = relative(outdir, args.path).split(sep).join('/');
      const own = `new URL(${JSON.stringify(rel.startsWith('.') ? rel : `./${rel}`)}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', own), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

const r = await build({
  entryPoints: { main: entry },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: '_chunk-[hash]',
  allowOverwrite: true,
  sourcemap: true,
  banner: { js: BUNDLE_MARK },
  plugins: [ownUrls],
  logLevel: 'warning',
  metafile: true,
});
const outs = Object.keys(r.metafile.outputs).filter((f) => f.endsWith('.js'));
console.error(`bundle-cli: ${Object.keys(r.metafile.inputs).length} modules into ${outs.length} files in dist/cli/`);
