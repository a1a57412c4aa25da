'use strict';
// distill/node launcher: runs a start command (an npm start script with its prestart and
// poststart, or a Procfile entry) without a shell, so images stay shell-free. The buildpack
// parses every command at build time with internal/command (the grammar every distill buildpack
// shares: words, quoting, $NAME / ${NAME:-default}, NAME=value prefixes, &&, ||, ;, and the
// builtins echo, true, false, :, cd, export, exit and the prefix exec) and hands this runner the
// plan as JSON, so a command that needs a shell fails the build, not the container:
//
//   node launch.js '<plan>'
//
//   plan = {"env": {NAME: VALUE}, "steps": [{"event": "prestart", "script": "…", "commands": […]}]}
//
// Steps run in turn as npm runs prestart, start, poststart: each in the app directory with
// npm_lifecycle_event=EVENT, stopping at the first that fails (its status is the exit status).
// Words expand as command.Word.Expand does. Commands are looked up on PATH with node_modules/.bin
// of the working directory and its ancestors first (as npm run does); `node` is this node, and
// scripts whose #! line names node run with this node too (the image has no /usr/bin/env).
//
// The launcher runs on the app's own Node.js, which may be as old as Node.js 12: keep to the
// syntax Node.js 12 parses (no ??, ?., ||=, class fields); launcher_test.go checks.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

// expand is a word's value and whether it stays an argument (command.Word.Expand): an unquoted
// word that expands to nothing is dropped, as in sh.
function expand(word, env) {
  let out = '';
  for (const p of word.parts || []) {
    if (!p.var) { out += p.text || ''; continue; }
    let v = env[p.var];
    if (p.default && (v === undefined || (p.ifEmpty && v === ''))) v = expand(p.default, env).value;
    out += v === undefined ? '' : v;
  }
  return { value: out, keep: out !== '' || Boolean(word.quoted) };
}

function isExecutable(p) {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch (e) {
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
    const head = buf.slice(0, n).toString('utf8');
    if (head.startsWith('#!')) return /\bnode(js)?\b/.test(head.split('\n')[0]);
    return /\.(c|m)?js$/.test(file);
  } catch (e) {
    return false;
  }
}

// resolveCommand finds what to spawn for argv: this node for node and node scripts, else the file.
function resolveCommand(argv, env, cwd) {
  if (argv[0] === 'node' || argv[0] === 'nodejs') return { file: process.execPath, args: argv.slice(1) };
  const found = lookPath(argv[0], env, cwd);
  if (!found || !isExecutable(found)) return null;
  if (nodeScript(found)) return { file: process.execPath, args: [found].concat(argv.slice(1)) };
  return { file: found, args: argv.slice(1) };
}

function signalStatus(signal) {
  return 128 + (os.constants.signals[signal] || 0);
}

// run runs the plan's steps in turn; a step that ends with a non-zero status ends the launcher
// with that status, as npm stops after a failing prestart.
function run(plan) {
  let child = null;
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']) {
    process.on(sig, () => {
      if (child) child.kill(sig);
      else process.exit(signalStatus(sig));
    });
  }
  const steps = plan.steps || [];
  let stepIdx = 0;
  const nextStep = (status) => {
    if (status !== 0 || stepIdx >= steps.length) process.exit(status);
    const step = steps[stepIdx++];
    const env = Object.assign({}, process.env, plan.env || {});
    if (step.event) {
      env.npm_lifecycle_event = step.event;
      env.npm_lifecycle_script = step.script;
    }
    runCommands(step.commands || [], env, (c) => { child = c; }, nextStep);
  };
  nextStep(0);
}

// builtin runs a builtin command; it returns the status, or null when argv[0] is not one.
function builtin(argv, cmdEnv, state) {
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
    case 'cd': {
      const dir = path.resolve(state.cwd, argv[1] || state.env.HOME || '/');
      try {
        if (!fs.statSync(dir).isDirectory()) throw new Error('not a directory');
        state.cwd = dir;
        return 0;
      } catch (e) {
        process.stderr.write('cd: ' + dir + ': not a directory\n');
        return 1;
      }
    }
    case 'export':
      Object.assign(state.env, cmdEnv);
      for (const a of argv.slice(1)) {
        const eq = a.indexOf('=');
        if (eq > 0) state.env[a.slice(0, eq)] = a.slice(eq + 1);
      }
      return 0;
  }
  return null;
}

// prepare expands one command: its environment (state's plus its NAME=value prefixes) and argv.
function prepare(c, state) {
  const cmdEnv = Object.assign({}, state.env);
  for (const a of c.env || []) cmdEnv[a.name] = expand(a.value, state.env).value;
  const argv = [];
  for (const w of c.args || []) {
    const e = expand(w, state.env);
    if (e.keep) argv.push(e.value);
  }
  if (argv[0] === 'exec') argv.shift();
  return { cmdEnv, argv };
}

// runCommands runs one step's commands with env in the working directory, reports each child
// through setChild, and calls done(status) when the step ends (exit N ends it too).
function runCommands(commands, env, setChild, done) {
  const state = { env, cwd: process.cwd() };
  let status = 0;
  let idx = 0;
  const next = () => {
    while (idx < commands.length) {
      const c = commands[idx++];
      if ((c.op === '&&' && status !== 0) || (c.op === '||' && status === 0)) continue;
      const { cmdEnv, argv } = prepare(c, state);
      if (argv.length === 0) { state.env = cmdEnv; status = 0; continue; }
      if (argv[0] === 'exit') { done(argv[1] === undefined ? status : Number(argv[1]) & 255); return; }
      const b = builtin(argv, cmdEnv, state);
      if (b !== null) { status = b; continue; }
      const target = resolveCommand(argv, cmdEnv, state.cwd);
      if (!target) {
        process.stderr.write('launch: ' + argv[0] + ': command not found\n');
        status = 127;
        continue;
      }
      const child = spawn(target.file, target.args, { cwd: state.cwd, env: cmdEnv, stdio: 'inherit', shell: false });
      setChild(child);
      child.on('error', (e) => {
        process.stderr.write('launch: ' + argv[0] + ': ' + e.message + '\n');
        setChild(null);
        status = 126;
        next();
      });
      child.on('exit', (code, signal) => {
        setChild(null);
        status = code !== null ? code : signalStatus(signal);
        next();
      });
      return;
    }
    done(status);
  };
  next();
}

function main(argv) {
  let plan = null;
  try {
    if (argv.length === 1) plan = JSON.parse(argv[0]);
  } catch (e) {
    plan = null;
  }
  if (!plan || !Array.isArray(plan.steps)) {
    process.stderr.write("usage: launch.js '<plan>' (JSON written by the distill/node buildpack)\n");
    process.exit(2);
  }
  run(plan);
}

if (require.main === module) main(process.argv.slice(2));

module.exports = { expand, prepare };
