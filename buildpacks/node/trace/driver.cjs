'use strict';
// Traces the files a Node.js app reaches with @vercel/nft, run by the buildpack at build time with
// the app's own node: node driver.cjs <dir holding node_modules/@vercel/nft> <request.json>.
// The request: {"base": "/", "cwd": app dir, "entries": [files], "whole": [package dirs]}.
// It prints one JSON object: {"files": [absolute paths nft reached], "whole": [{"dir", "why"}],
// "warnings": [strings]}. A file with a require/import of a value nft cannot evaluate keeps its
// package whole (in node_modules, with its installed optionalDependencies: platform builds such
// as @esbuild/linux-x64 are loaded by computed names), or for the app's own files every dependency
// its package.json declares; so does an installed package nft could not resolve. Each whole
// package's files are traced too, until nothing new is added.
// Written for Node.js 18 and later (the oldest line a pinned nft supports).
const fs = require('fs');
const path = require('path');

const nftDir = process.argv[2];
const nft = require(require.resolve('@vercel/nft', { paths: [nftDir] }));
const acorn = require(require.resolve('acorn', { paths: [path.dirname(require.resolve('@vercel/nft/package.json', { paths: [nftDir] }))] }));

const codeFile = /\.(c|m)?js$/;

// parse reads a file as a script, else as a module; null when neither parses.
function parse(code) {
  const opts = { ecmaVersion: 'latest', locations: true, allowHashBang: true, allowReturnOutsideFunction: true };
  try {
    return acorn.parse(code, opts);
  } catch (e) {
    try {
      return acorn.parse(code, Object.assign({}, opts, { sourceType: 'module', allowAwaitOutsideFunction: true }));
    } catch (e2) {
      return null;
    }
  }
}

function walk(node, visit) {
  if (!node || typeof node.type !== 'string') return;
  visit(node);
  for (const key of Object.keys(node)) {
    const v = node[key];
    if (Array.isArray(v)) v.forEach((c) => walk(c, visit));
    else if (v && typeof v === 'object' && typeof v.type === 'string') walk(v, visit);
  }
}

const relative = (s) => typeof s === 'string' && (s.startsWith('./') || s.startsWith('../'));

// known says whether nft can tell what a require argument names: a string, a relative path with a
// variable part (nft globs the directory), path.join/resolve of __dirname and strings, each branch
// of a ?: or ||.
function known(n) {
  switch (n.type) {
    case 'Literal':
      return typeof n.value === 'string';
    case 'TemplateLiteral':
      return n.expressions.length === 0 || relative(n.quasis[0].value.cooked);
    case 'BinaryExpression': {
      let left = n;
      while (left.type === 'BinaryExpression' && left.operator === '+') left = left.left;
      return left.type === 'Literal' && relative(left.value);
    }
    case 'ConditionalExpression':
      return known(n.consequent) && known(n.alternate);
    case 'LogicalExpression':
      return known(n.left) && known(n.right);
    case 'CallExpression': {
      const c = n.callee;
      return c.type === 'MemberExpression' && !c.computed && c.object.type === 'Identifier' && c.object.name === 'path' &&
        (c.property.name === 'join' || c.property.name === 'resolve') &&
        n.arguments.every((a) => (a.type === 'Identifier' && a.name === '__dirname') || (a.type === 'Literal' && typeof a.value === 'string'));
    }
  }
  return false;
}

const isCreateRequire = (n) => n && n.type === 'CallExpression' &&
  ((n.callee.type === 'Identifier' && n.callee.name === 'createRequire') ||
    (n.callee.type === 'MemberExpression' && !n.callee.computed && n.callee.property.name === 'createRequire'));

// requireArg is the module argument of a require-like call (require, require.resolve,
// module.require, a createRequire result, import()), or undefined.
function requireArg(node, names) {
  if (node.type === 'ImportExpression') return node.source;
  if (node.type !== 'CallExpression' || node.arguments.length === 0) return undefined;
  const c = node.callee;
  if (c.type === 'Identifier' && names.has(c.name)) return node.arguments[0];
  if (isCreateRequire(c)) return node.arguments[0];
  if (c.type === 'MemberExpression' && !c.computed && c.object.type === 'Identifier') {
    if (c.property.name === 'resolve' && names.has(c.object.name)) return node.arguments[0];
    if (c.property.name === 'require' && c.object.name === 'module') return node.arguments[0];
  }
  return undefined;
}

// dynamicSites lists the lines of a file's require-like calls whose argument nft cannot evaluate;
// [0] when the file does not parse (nothing in it can be followed).
function dynamicSites(file) {
  let code;
  try {
    code = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return [];
  }
  if (!/require|import|createRequire/.test(code)) return [];
  const ast = parse(code);
  if (!ast) return [0];
  const names = new Set(['require']);
  walk(ast, (n) => {
    if (n.type === 'VariableDeclarator' && n.id.type === 'Identifier' && isCreateRequire(n.init)) names.add(n.id.name);
  });
  const lines = [];
  walk(ast, (n) => {
    const arg = requireArg(n, names);
    if (arg && !known(arg)) lines.push(n.loc.start.line);
  });
  return lines;
}

function readJSON(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return null;
  }
}

// packageOf is the directory of the package holding file: the nearest directory with a
// package.json that has a name, or the top directory below node_modules.
function packageOf(file) {
  for (let d = path.dirname(file); d !== path.dirname(d); d = path.dirname(d)) {
    if (path.basename(path.dirname(d)) === 'node_modules' ||
      (path.basename(path.dirname(path.dirname(d))) === 'node_modules' && path.basename(path.dirname(d)).startsWith('@'))) return d;
    const pj = readJSON(path.join(d, 'package.json'));
    if (pj && pj.name && !d.split(path.sep).includes('node_modules')) return d;
  }
  return null;
}

// dependencyDirs resolves the dependencies a package.json declares to their directories.
function dependencyDirs(dir, fields) {
  const pj = readJSON(path.join(dir, 'package.json')) || {};
  const names = new Set();
  for (const field of fields) {
    for (const n of Object.keys(pj[field] || {})) names.add(n);
  }
  const out = [];
  for (const name of names) {
    const d = installed(dir, name);
    if (d) out.push(d);
  }
  return out;
}

// installed finds package name from dir up, as Node.js does; null when it is not installed.
function installed(dir, name) {
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
    const cand = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(cand, 'package.json'))) return fs.realpathSync(cand);
  }
  return null;
}

// packageFiles lists a package's code files, not those of packages nested in it.
function packageFiles(dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') packageFiles(p, out);
    else if (e.isFile() && (codeFile.test(e.name) || e.name === 'package.json')) out.push(p);
  }
}

async function main() {
  const req = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
  const inputs = new Set(req.entries);
  const whole = new Map();
  const keepWhole = (dir, why) => {
    dir = fs.realpathSync(dir);
    if (whole.has(dir)) return;
    whole.set(dir, why);
    const files = [];
    packageFiles(dir, files);
    files.forEach((f) => inputs.add(f));
  };
  (req.whole || []).forEach((w) => keepWhole(w.dir, w.why));
  const files = new Set();
  const warnings = new Set();
  const scanned = new Set();
  const cache = {};
  for (let size = -1; inputs.size !== size;) {
    size = inputs.size;
    const res = await nft.nodeFileTrace([...inputs], { base: req.base, processCwd: req.cwd, cache, mixedModules: true });
    res.fileList.forEach((f) => files.add(path.join(req.base, f)));
    res.warnings.forEach((w) => {
      const msg = String((w && w.message) || w).split('\n')[0].replace(/:$/, '');
      warnings.add(msg);
      // A package that is installed but that nft could not resolve stays whole.
      const m = /^Failed to resolve dependency "([^".][^"]*)"/.exec(msg);
      const name = m && (m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0]);
      const dir = name && installed(req.cwd, name);
      if (dir) keepWhole(dir, 'nft could not resolve "' + m[1] + '", which is installed');
    });
    for (const f of files) {
      if (scanned.has(f) || !codeFile.test(f)) continue;
      scanned.add(f);
      const lines = dynamicSites(f);
      if (lines.length === 0) continue;
      const where = lines[0] === 0 ? f + ' does not parse' : f + ':' + lines.join(',') + ' requires a value the trace cannot evaluate';
      const pkg = packageOf(f);
      if (pkg && pkg.split(path.sep).includes('node_modules')) {
        keepWhole(pkg, where);
        // Platform builds (esbuild's @esbuild/linux-x64, rollup's native parts) are optional
        // dependencies loaded by a computed name.
        dependencyDirs(pkg, ['optionalDependencies']).forEach((d) => keepWhole(d, where + ' (an optional dependency of ' + path.basename(pkg) + ')'));
      } else {
        const dir = pkg || req.cwd;
        dependencyDirs(dir, ['dependencies', 'optionalDependencies', 'peerDependencies']).forEach((d) => keepWhole(d, where + ' (a dependency of ' + path.join(dir, 'package.json') + ')'));
      }
    }
  }
  const out = { files: [...files].sort(), whole: [...whole].map(([dir, why]) => ({ dir, why })), warnings: [...warnings].sort() };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write('tracing failed: ' + ((e && e.stack) || e) + '\n');
  process.exit(1);
});
