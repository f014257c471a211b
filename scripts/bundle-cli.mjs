#!/usr/bin/env node
// Bundles the command line after tsc (issue 19: the cold command line):
//
// - dist/cli/eucanet.cjs: the command line (dist/cli/main.js as tsc wrote it,
//   and every module of the package it loads, every command's code included)
//   as ONE CommonJS file. A cold `eucanet apply` then reads and compiles one
//   file instead of resolving, reading, compiling and linking about a hundred
//   ES modules or a dozen chunks; a command's own code (apply, agent, demo,
//   ...) is still only run when that command runs (esbuild turns the dynamic
//   imports into lazily run module bodies).
// - dist/cli/main.js (the `eucanet` bin): src/cli/launch.ts, bundled as a
//   small CommonJS file that runs eucanet.cjs through vm.Script with a V8 code
//   cache (src/cli/code-cache.ts), given the bundle's content hash to name it.
//   CommonJS, not an ES module: Node runs an ES module entry through its ESM
//   loader, about 17 million instructions of every cold command (its modules
//   compiled and run) before any of eucanet's. The package is "type": "module",
//   so dist/cli/package.json says "commonjs" for this directory: what tsc wrote
//   there (ES modules) is input to this script only, and nothing loads it.
//
// Only the package's own code is bundled; its dependencies stay require()s.
// The library entry (dist/index.js and every other module tsc wrote) is left
// as it is.
//
// Each module keeps its own import.meta.url: a module that finds a file next
// to itself (the addon under the package root, the demo's responder script,
// package.json) sees the URL of the file tsc wrote, computed from the bundle's
// own location (__filename), so the package stays relocatable. Both output
// files are in dist/cli/, next to the file they replace.
//
//   node scripts/bundle-cli.mjs     (after tsc; `npm run build:ts` runs both)
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist/cli');
const entry = join(outdir, 'main.js');
const scopeFile = join(outdir, 'package.json');
export const BUNDLE_MARK = '// eucanet: bundled by scripts/bundle-cli.mjs';
/** The name the bundle's code gives its own file's URL (set in its banner). */
const OWN_URL = '__eucanet_bundle_url';
/** The launcher's own URL (its import.meta.url, which CommonJS does not have). */
const LAUNCHER_URL = '__eucanet_launcher_url';

if (readFileSync(entry, 'utf8').includes(BUNDLE_MARK)) {
  console.error('bundle-cli: dist/cli/main.js is already the bundle: run tsc first (npm run build:ts)');
  process.exit(1);
}
// An earlier build's code-split chunks (this script made them before the single file).
// And its dist/cli/package.json: tsc's ES modules here are read as the ES modules they are.
rmSync(scopeFile, { force: true });
for (const f of readdirSync(outdir)) if (/^_chunk-.*\.js(\.map)?$/.test(f)) rmSync(join(outdir, f));
/**
 * The bundle's first line, the head of the wrapper Node gives a CommonJS
 * module: the one the launcher checks (src/cli/code-cache.ts), taken from
 * what tsc wrote, read as the ES module it is now that dist/cli/package.json
 * is gone (a static import would have loaded it before that, as CommonJS).
 */
const { BUNDLE_HEAD } = await import(pathToFileURL(join(outdir, 'code-cache.js')).href);

/** @type {import('esbuild').Plugin} */
const ownUrls = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/dist\/.*\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = relative(outdir, args.path).split(sep).join('/');
      const own = `new URL(${JSON.stringify(rel.startsWith('.') ? rel : `./${rel}`)}, ${OWN_URL}).href`;
      return { contents: text.replaceAll('import.meta.url', own), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

const cjs = join(outdir, 'eucanet.cjs');
const r = await build({
  entryPoints: [entry],
  outfile: cjs,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  // ASCII only (esbuild escapes the rest): the launcher reads the file as Latin-1, which is then exact.
  charset: 'ascii',
  banner: { js: `${BUNDLE_MARK}\nconst ${OWN_URL} = require('node:url').pathToFileURL(__filename).href;` },
  plugins: [ownUrls],
  logLevel: 'warning',
  metafile: true,
  // Written below, each file to a temporary name and renamed: a running
  // command maps the bundle (native/cold_start.cc), and a file rewritten in
  // place under it would fault it (SIGBUS).
  write: false,
});
/**
 * Replaces `file` with `data` whole: a temporary name, then a rename.
 * @param {string} file
 * @param {Uint8Array} data
 */
function replaceFile(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}
// The bundle as the launcher compiles it: the module wrapper's head in place
// of the hashbang (line 1, so the source map's lines still match), its end
// after the last line of code. No copy of 1.1 MB of text is made at run time
// to wrap it (code-cache.ts's runBundle).
/** @type {Buffer | undefined} */
let bundle;
for (const out of r.outputFiles) {
  if (out.path !== cjs) {
    replaceFile(out.path, out.contents);
    continue;
  }
  const bytes = Buffer.from(out.contents);
  const bad = bytes.findIndex((b) => b > 0x7f);
  const text = bytes.toString('latin1');
  if (bad >= 0) {
    console.error(`bundle-cli: dist/cli/eucanet.cjs has a byte that is not ASCII at offset ${bad}: the launcher reads it as Latin-1`);
    process.exit(1);
  }
  const body = text.startsWith('#!') ? text.slice(text.indexOf('\n')) : text;
  const map = body.lastIndexOf('\n//# sourceMappingURL=');
  const end = map >= 0 ? map : body.length;
  bundle = Buffer.from(`${BUNDLE_HEAD}${body.slice(0, end)}\n})${body.slice(end)}`, 'latin1');
}
if (bundle === undefined) {
  console.error(`bundle-cli: esbuild wrote no ${cjs}`);
  process.exit(1);
}
replaceFile(cjs, bundle);
const hash = createHash('sha256').update(bundle).digest('hex');
await build({
  entryPoints: [join(outdir, 'launch.js')],
  outfile: entry,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  allowOverwrite: true,
  banner: { js: `#!/usr/bin/env node\n${BUNDLE_MARK}\nconst ${LAUNCHER_URL} = require('node:url').pathToFileURL(__filename).href;` },
  define: { EUCANET_BUNDLE_HASH: JSON.stringify(hash), 'import.meta.url': LAUNCHER_URL },
  logLevel: 'warning',
});
writeFileSync(scopeFile, `${JSON.stringify({ type: 'commonjs' })}\n`);
console.error(
  `bundle-cli: ${Object.keys(r.metafile.inputs).length} modules into dist/cli/eucanet.cjs (sha256 ${hash.slice(0, 16)}), dist/cli/main.js its launcher`,
);
