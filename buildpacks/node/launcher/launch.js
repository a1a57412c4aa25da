'use strict';
// distill/node launcher: runs a start command (an npm start script or a Procfile entry) without a
// shell, so images stay shell-free. It understands the small subset of sh that start scripts use:
//
//   words with '…' and "…" quoting and \ escapes; $NAME, ${NAME} and ${NAME:-default} expansion;
//   NAME=value prefixes; command lists joined by &&, || and ; (or newlines); the builtins echo,
//   true, false, :, cd, export, exit and the prefix exec.
//
// Anything else (pipes, redirections, subshells, $(…), backgrounding, globs) is refused with a
// message; the buildpack runs `launch.js --parse` at build time so such a script fails the build,
// not the container. Commands are looked up on PATH with ./node_modules/.bin first (as npm run
// does); `node` is this node, and scripts whose #! line names node run with this node too (the
// image has no /usr/bin/env).
//
//   node launch.js --parse '<script>'   print the parsed form as JSON (build time)
//   node launch.js -c '<script>'        run it
//   node launch.js [--set NAME=VALUE]... --run EVENT '<script>' [--run EVENT '<script>']...
//                                        run scripts in turn as npm runs prestart, start, poststart:
//                                        each in the app directory with npm_lifecycle_event=EVENT,
//                                        stopping at the first that fails (its status is the exit status)
//
// The launcher runs on the app's own Node.js, which may be as old as Node.js 12: keep to the
// syntax Node.js 12 parses (no ??, ?., ||=, class fields); launcher_test.go checks.

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

class ParseError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// tokenize splits src into words (arrays of parts) and operators.
function tokenize(src) {
  const tokens = [];
  let i = 0;
  let word = null; // {parts: [{q: '', "'", '"', s}]}
  const pushPart = (q, s) => {
    if (!word) word = { parts: [] };
    word.parts.push({ q, s });
  };
  const endWord = () => {
    if (word) tokens.push({ t: 'word', parts: word.parts });
    word = null;
  };
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t') { endWord(); i++; continue; }
    if (c === '\n' || c === ';') { endWord(); tokens.push({ t: 'op', v: ';' }); i++; continue; }
    if (c === '&' && src[i + 1] === '&') { endWord(); tokens.push({ t: 'op', v: '&&' }); i += 2; continue; }
    if (c === '|' && src[i + 1] === '|') { endWord(); tokens.push({ t: 'op', v: '||' }); i += 2; continue; }
    if (c === '#' && !word) { while (i < src.length && src[i] !== '\n') i++; continue; }
    if (c === '|') throw new ParseError('pipes (|) need a shell');
    if (c === '&') throw new ParseError('background jobs (&) need a shell');
    if (c === '<' || c === '>') throw new ParseError('redirections (< >) need a shell');
    if (c === '(' || c === ')') throw new ParseError('subshells ( ) need a shell');
    if (c === '`') throw new ParseError('command substitution (`…`) needs a shell');
    if (c === '*' || c === '?' || c === '[') throw new ParseError(`glob patterns (${c}) need a shell; quote the word if it is literal`);
    if (c === '~' && !word) throw new ParseError('~ expansion needs a shell; use $HOME');
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new ParseError('unterminated single quote');
      pushPart("'", src.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    if (c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new ParseError('unterminated double quote');
        const d = src[i];
        if (d === '"') { i++; break; }
        if (d === '\\' && i + 1 < src.length && '$`"\\\n'.includes(src[i + 1])) { s += src[i + 1] === '\n' ? '' : '\\' + src[i + 1]; i += 2; continue; }
        if (d === '`') throw new ParseError('command substitution (`…`) needs a shell');
        if (d === '$' && src[i + 1] === '(') throw new ParseError('command substitution $(…) needs a shell');
        s += d;
        i++;
      }
      pushPart('"', s);
      continue;
    }
    if (c === '\\') {
      if (i + 1 < src.length) {
        if (src[i + 1] !== '\n') pushPart("'", src[i + 1]);
        i += 2;
      } else {
        i++;
      }
      continue;
    }
    if (c === '$' && src[i + 1] === '(') throw new ParseError('command substitution $(…) needs a shell');
    // A run of plain characters.
    let j = i;
    while (j < src.length && !" \t\n;&|<>()`'\"\\#*?[".includes(src[j])) j++;
    if (j === i) j = i + 1; // '#' inside a word
    pushPart('', src.slice(i, j));
    i = j;
  }
  endWord();
  return tokens;
}

// expandable reports whether the parts hold a $ expansion.
function hasExpansion(parts) {
  return parts.some((p) => p.q !== "'" && p.s.includes('$'));
}

// expandString expands $NAME, ${NAME}, ${NAME:-default} and $$-free text; \$ in double quotes is kept literal.
function expandString(s, env, quoted) {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted && c === '\\' && i + 1 < s.length) { out += s[i + 1]; i++; continue; }
    if (c !== '$') { out += c; continue; }
    const rest = s.slice(i + 1);
    let m = /^\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/.exec(rest);
    if (m) {
      const v = env[m[1]];
      out += v === undefined || (v === '' && m[2] !== undefined) ? (m[2] !== undefined ? expandString(m[2], env, quoted) : '') : v;
      i += m[0].length;
      continue;
    }
    if (rest.startsWith('{')) throw new ParseError(`unsupported parameter expansion $${rest.slice(0, rest.indexOf('}') + 1 || undefined)}`);
    m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (m) { out += env[m[0]] === undefined ? '' : env[m[0]]; i += m[0].length; continue; }
    if (/^[0-9@*#?$!-]/.test(rest)) throw new ParseError(`special parameter $${rest[0]} needs a shell`);
    out += '$';
  }
  return out;
}

function expandWord(parts, env) {
  return parts.map((p) => (p.q === "'" ? p.s : expandString(p.s, env, p.q === '"'))).join('');
}

function validateExpansions(parts) {
  for (const p of parts) if (p.q !== "'") expandString(p.s, {}, p.q === '"');
}

// parse turns a script into [{op, assigns: [[name, parts]], words: [parts]}]; op joins it to the
// previous command (null for the first).
function parse(src) {
  const tokens = tokenize(src);
  const list = [];
  let cur = null;
  let op = null;
  for (const tok of tokens) {
    if (tok.t === 'op') {
      if (!cur) {
        if (tok.v === ';' && list.length === 0 && op === null) continue; // leading newlines
        if (tok.v === ';') continue;
        throw new ParseError(`syntax error near ${tok.v}`);
      }
      list.push(cur);
      cur = null;
      op = tok.v;
      continue;
    }
    validateExpansions(tok.parts);
    if (!cur) cur = { op: list.length === 0 ? null : op, assigns: [], words: [] };
    const first = tok.parts[0];
    const eq = first.q === '' ? first.s.indexOf('=') : -1;
    if (cur.words.length === 0 && eq > 0 && NAME.test(first.s.slice(0, eq))) {
      const value = [{ q: '', s: first.s.slice(eq + 1) }, ...tok.parts.slice(1)];
      cur.assigns.push([first.s.slice(0, eq), value]);
      continue;
    }
    cur.words.push(tok.parts);
  }
  if (cur) list.push(cur);
  else if (op === '&&' || op === '||') throw new ParseError(`syntax error: the script ends with ${op}`);
  if (list.length === 0) throw new ParseError('empty command');
  for (const c of list) {
    if (c.words.length === 0 && c.assigns.length === 0) throw new ParseError('empty command');
  }
  return list;
}

const BUILTINS = new Set(['echo', 'true', 'false', ':', 'cd', 'export', 'exit', 'exec']);

// describe is the build-time view of a script: a single plain command is "simple" and its words.
function describe(src) {
  const list = parse(src);
  const literal = (parts) => parts.map((p) => p.s).join('');
  if (list.length === 1 && list[0].assigns.length === 0 && list[0].words.length > 0) {
    const words = list[0].words;
    const plain = !words.some(hasExpansion) && !BUILTINS.has(literal(words[0]));
    if (plain) return { simple: true, argv: words.map(literal) };
  }
  return {
    simple: false,
    commands: list.map((c) => ({ op: c.op, argv: c.words.map(literal), env: c.assigns.map(([k]) => k) })),
  };
}

function isExecutable(p) {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// binDirs are node_modules/.bin of cwd and of each of its ancestors, nearest first, as npm run puts
// them on PATH (a workspace's scripts find the root's commands).
function binDirs(cwd) {
  const dirs = [];
  for (let d = path.resolve(cwd); ; d = path.dirname(d)) {
    dirs.push(path.join(d, 'node_modules', '.bin'));
    if (path.dirname(d) === d) return dirs;
  }
}

function lookPath(cmd, env, cwd) {
  if (cmd.includes('/')) return path.resolve(cwd, cmd);
  const dirs = binDirs(cwd).concat((env.PATH || '').split(':').filter(Boolean));
  for (const d of dirs) {
    const p = path.join(d, cmd);
    if (isExecutable(p)) return p;
  }
  return null;
}

// nodeScript reports whether file is a script whose #! line runs node (or has no #! and ends in .js).
function nodeScript(file) {
  try {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(256);
    const n = fs.readSync(fd, buf, 0, 256, 0);
    fs.closeSync(fd);
    const head = buf.subarray(0, n).toString('utf8');
    if (head.startsWith('#!')) return /\bnode(js)?\b/.test(head.split('\n')[0]);
    return /\.(c|m)?js$/.test(file);
  } catch {
    return false;
  }
}

// run runs steps ([{event, script}]) in turn; a step that ends with a non-zero status ends the
// launcher with that status, as npm stops after a failing prestart.
function run(steps, extraEnv) {
  const parsed = steps.map((s) => ({ event: s.event, script: s.script, list: parse(s.script) }));
  let child = null;
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']) {
    process.on(sig, () => {
      if (child) child.kill(sig);
      else process.exit(128 + (require('os').constants.signals[sig] || 0));
    });
  }
  let stepIdx = 0;
  const nextStep = (status) => {
    if (status !== 0 || stepIdx >= parsed.length) process.exit(status);
    const step = parsed[stepIdx++];
    const env = Object.assign({}, process.env, extraEnv);
    if (step.event) {
      env.npm_lifecycle_event = step.event;
      env.npm_lifecycle_script = step.script;
    }
    runList(step.list, env, (c) => { child = c; }, nextStep);
  };
  nextStep(0);
}

// builtin runs a builtin command; it returns the status, or null when argv[0] is not a builtin.
function builtin(argv, c, cmdEnv, state) {
  switch (argv[0]) {
    case 'echo': {
      let a = argv.slice(1);
      let nl = '\n';
      if (a[0] === '-n') { nl = ''; a = a.slice(1); }
      process.stdout.write(a.join(' ') + nl);
      return 0;
    }
    case 'true': case ':': return 0;
    case 'false': return 1;
    case 'cd':
      try {
        const dir = path.resolve(state.cwd, argv[1] || state.env.HOME || '/');
        if (!fs.statSync(dir).isDirectory()) throw new Error('not a directory');
        state.cwd = dir;
        return 0;
      } catch (e) {
        process.stderr.write(`cd: ${argv[1]}: ${e.message}\n`);
        return 1;
      }
    case 'export':
      for (const a of argv.slice(1)) {
        const eq = a.indexOf('=');
        if (eq > 0) state.env[a.slice(0, eq)] = a.slice(eq + 1);
      }
      for (const [k] of c.assigns) state.env[k] = cmdEnv[k];
      return 0;
  }
  return null;
}

// runList runs one parsed script with env in the working directory, reports each child through
// setChild, and calls done(status) when the script ends (exit N ends it too).
function runList(list, env, setChild, done) {
  const state = { env, cwd: process.cwd() };
  let status = 0;
  let idx = 0;
  const next = () => {
    while (idx < list.length) {
      const c = list[idx++];
      if ((c.op === '&&' && status !== 0) || (c.op === '||' && status === 0)) continue;
      const cmdEnv = Object.assign({}, state.env);
      for (const [k, v] of c.assigns) cmdEnv[k] = expandWord(v, state.env);
      let argv = c.words.map((w) => expandWord(w, cmdEnv));
      if (argv.length === 0) { Object.assign(state.env, cmdEnv); status = 0; continue; }
      if (argv[0] === 'exec') argv = argv.slice(1);
      if (argv.length === 0) { status = 0; continue; }
      if (argv[0] === 'exit') { done(argv[1] === undefined ? status : Number(argv[1]) & 255); return; }
      const b = builtin(argv, c, cmdEnv, state);
      if (b !== null) { status = b; continue; }
      const target = resolveCommand(argv, cmdEnv, state.cwd);
      if (!target) {
        process.stderr.write(`launch: ${argv[0]}: command not found\n`);
        status = 127;
        continue;
      }
      const child = spawn(target.file, target.args, { cwd: state.cwd, env: cmdEnv, stdio: 'inherit', shell: false });
      setChild(child);
      child.on('error', (e) => {
        process.stderr.write(`launch: ${argv[0]}: ${e.message}\n`);
        setChild(null);
        status = 126;
        next();
      });
      child.on('exit', (code, signal) => {
        setChild(null);
        status = code !== null ? code : 128 + (require('os').constants.signals[signal] || 0);
        next();
      });
      return;
    }
    done(status);
  };
  next();
}

// resolveCommand finds what to spawn for argv: this node for node and node scripts, else the file.
function resolveCommand(argv, env, cwd) {
  if (argv[0] === 'node' || argv[0] === 'nodejs') return { file: process.execPath, args: argv.slice(1) };
  const found = lookPath(argv[0], env, cwd);
  if (!found || !isExecutable(found)) return null;
  if (nodeScript(found)) return { file: process.execPath, args: [found].concat(argv.slice(1)) };
  return { file: found, args: argv.slice(1) };
}

// parseArgs reads --set NAME=VALUE and --run EVENT SCRIPT pairs (or -c SCRIPT).
function parseArgs(argv) {
  const steps = [];
  const env = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-c' && i + 1 < argv.length) { steps.push({ event: null, script: argv[++i] }); continue; }
    if (argv[i] === '--run' && i + 2 < argv.length) { steps.push({ event: argv[i + 1], script: argv[i + 2] }); i += 2; continue; }
    if (argv[i] === '--set' && i + 1 < argv.length) {
      const kv = argv[++i];
      const eq = kv.indexOf('=');
      if (eq > 0) { env[kv.slice(0, eq)] = kv.slice(eq + 1); continue; }
    }
    return null;
  }
  return steps.length > 0 ? { steps, env } : null;
}

function main(argv) {
  const [mode, script] = argv;
  try {
    if (mode === '--parse' && script !== undefined) {
      process.stdout.write(JSON.stringify(describe(script)) + '\n');
      return;
    }
    const args = parseArgs(argv);
    if (args) {
      run(args.steps, args.env);
      return;
    }
  } catch (e) {
    if (e instanceof ParseError) {
      process.stderr.write(`launch: cannot run ${JSON.stringify(script)} without a shell: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  process.stderr.write('usage: launch.js --parse SCRIPT | -c SCRIPT | [--set NAME=VALUE]... --run EVENT SCRIPT...\n');
  process.exit(2);
}

if (require.main === module) main(process.argv.slice(2));

module.exports = { parse, describe, tokenize, expandWord };
