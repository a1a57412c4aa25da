// Package command parses the process commands buildpacks accept (Procfile entries, start
// scripts) into a plan a small runner executes without a shell, so run images need none.
//
// The grammar is the subset of sh that start commands use:
//
//   - words with '…' and "…" quoting and \ escapes;
//   - $NAME, ${NAME}, ${NAME:-default} and ${NAME-default} (expanded at start, never split into
//     several words; an unquoted word that expands to nothing is dropped, as in sh);
//   - NAME=value prefixes (for that command; alone, for the commands after it);
//   - command lists joined by ;, newlines, && and ||; # comments;
//   - the builtins echo [-n], true, false, :, cd, export, exit and the prefix exec.
//
// Anything else (pipes, redirections, subshells, $(…) and `…`, background jobs, globs, ~,
// $1 and the other special parameters, other ${…} forms) is refused with an *Error saying it
// needs a shell. Parse runs at build time, so a bad command fails the build, not the container.
package command

import (
	"fmt"
	"strings"
)

// Op joins a command to the one before it.
type Op string

// The operators between commands.
const (
	Seq Op = ";"  // run the next command whatever the status
	And Op = "&&" // run the next command if the status is 0
	Or  Op = "||" // run the next command if the status is not 0
)

// Script is a parsed command line: commands run in order, each joined to the previous by Op.
type Script struct {
	Commands []Command `json:"commands"`
}

// Command is one simple command: NAME=value assignments, then its words.
type Command struct {
	Op   Op       `json:"op,omitempty"` // empty for the first command
	Env  []Assign `json:"env,omitempty"`
	Args []Word   `json:"args,omitempty"`
}

// Assign is a NAME=value prefix.
type Assign struct {
	Name  string `json:"name"`
	Value Word   `json:"value"`
}

// Word is one argument: literal text and variable references, concatenated.
type Word struct {
	Parts []Part `json:"parts,omitempty"`
	// Quoted: the word had quotes, so it is an argument even when it expands to "".
	Quoted bool `json:"quoted,omitempty"`
}

// Part is literal Text, or a reference to the variable Var.
type Part struct {
	Text string `json:"text,omitempty"`
	Var  string `json:"var,omitempty"`
	// Default is used when Var is unset (${VAR-default}) or, with IfEmpty, unset or empty
	// (${VAR:-default}).
	Default *Word `json:"default,omitempty"`
	IfEmpty bool  `json:"ifEmpty,omitempty"`
}

// Builtins are the commands the runner carries out itself; "exec" is a prefix that replaces the
// runner with the command.
var Builtins = []string{"echo", "true", "false", ":", "cd", "export", "exit", "exec"}

// Supported says in one line what the grammar accepts, for error messages.
const Supported = "programs with quoted arguments, $VAR / ${VAR:-default}, VAR=value prefixes, " +
	"a; b, a && b, a || b and the builtins echo, cd, export, exit, exec"

// Error is a command the grammar refuses: what and where (a byte offset into the command).
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// IsBuiltin reports whether name is one of Builtins.
func IsBuiltin(name string) bool {
	for _, b := range Builtins {
		if b == name {
			return true
		}
	}
	return false
}

// Argv returns the words of a script that is one plain command (no assignments, no
// expansions, not a builtin), which can run directly without the runner.
func (s Script) Argv() ([]string, bool) {
	if len(s.Commands) != 1 || len(s.Commands[0].Env) > 0 || len(s.Commands[0].Args) == 0 {
		return nil, false
	}
	var argv []string
	for _, w := range s.Commands[0].Args {
		lit, ok := w.Literal()
		if !ok {
			return nil, false
		}
		argv = append(argv, lit)
	}
	if IsBuiltin(argv[0]) {
		return nil, false
	}
	return argv, true
}

// Literal returns the word's text when it has no variable references.
func (w Word) Literal() (string, bool) {
	var b strings.Builder
	for _, p := range w.Parts {
		if p.Var != "" {
			return "", false
		}
		b.WriteString(p.Text)
	}
	return b.String(), true
}

// Expand returns the word's value, looking variables up with env; ok is false when the word
// disappears (unquoted, and it expanded to nothing). Runners must expand the same way.
func (w Word) Expand(env func(string) (string, bool)) (value string, ok bool) {
	var b strings.Builder
	for _, p := range w.Parts {
		if p.Var == "" {
			b.WriteString(p.Text)
			continue
		}
		v, set := env(p.Var)
		if p.Default != nil && (!set || (p.IfEmpty && v == "")) {
			v, _ = p.Default.Expand(env)
		}
		b.WriteString(v)
	}
	return b.String(), b.Len() > 0 || w.Quoted
}

// errorf builds an *Error at offset.
func errorf(offset int, format string, args ...any) *Error {
	return &Error{Offset: offset, Msg: fmt.Sprintf(format, args...)}
}
