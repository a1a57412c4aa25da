package command

import (
	"strings"
	"unicode/utf8"
)

// token is a word or an operator from the lexer.
type token struct {
	op     Op // empty for a word
	word   Word
	lead   string // the word's leading unquoted, unescaped literal text (for NAME=value)
	offset int
}

// wordBuilder accumulates one word.
type wordBuilder struct {
	started  bool
	word     Word
	lead     strings.Builder
	leadOpen bool // still in the leading unquoted literal text
	offset   int
}

func (b *wordBuilder) start(offset int) {
	if !b.started {
		*b = wordBuilder{started: true, leadOpen: true, offset: offset}
	}
}

// text appends literal text; plain says it is unquoted and unescaped.
func (b *wordBuilder) text(s string, plain bool) {
	if plain && b.leadOpen {
		b.lead.WriteString(s)
	} else {
		b.leadOpen = false
	}
	b.word.Parts = appendText(b.word.Parts, s)
}

func (b *wordBuilder) part(p Part) {
	b.leadOpen = false
	b.word.Parts = append(b.word.Parts, p)
}

// appendText adds text to parts, merging it into a trailing text part.
func appendText(parts []Part, s string) []Part {
	if s == "" {
		return parts
	}
	if n := len(parts); n > 0 && parts[n-1].Var == "" {
		parts[n-1].Text += s
		return parts
	}
	return append(parts, Part{Text: s})
}

// lexer splits a command line into tokens.
type lexer struct {
	src    string
	i      int
	cur    wordBuilder
	tokens []token
}

func (l *lexer) endWord() {
	if l.cur.started {
		l.tokens = append(l.tokens, token{word: l.cur.word, lead: l.cur.lead.String(), offset: l.cur.offset})
		l.cur = wordBuilder{}
	}
}

func (l *lexer) op(op Op, width int) {
	l.endWord()
	l.tokens = append(l.tokens, token{op: op, offset: l.i})
	l.i += width
}

// refused maps the characters that need a shell to what to say.
var refused = map[byte]string{
	'|': "pipes (|) need a shell",
	'&': "background jobs (&) need a shell",
	'<': "redirections (< >) need a shell",
	'>': "redirections (< >) need a shell",
	'(': "subshells ( ) need a shell",
	')': "subshells ( ) need a shell",
	'`': "command substitution (`…`) needs a shell",
}

// lex tokenizes src.
func lex(src string) ([]token, error) {
	l := &lexer{src: src}
	for l.i < len(src) {
		if err := l.step(); err != nil {
			return nil, err
		}
	}
	l.endWord()
	return l.tokens, nil
}

// step consumes one character or construct outside quotes.
func (l *lexer) step() error {
	src, i := l.src, l.i
	c := src[i]
	next := byte(0)
	if i+1 < len(src) {
		next = src[i+1]
	}
	switch {
	case c == ' ' || c == '\t':
		l.endWord()
		l.i++
	case c == '\n' || c == ';':
		l.op(Seq, 1)
	case c == '&' && next == '&':
		l.op(And, 2)
	case c == '|' && next == '|':
		l.op(Or, 2)
	case c == '#' && !l.cur.started:
		for l.i < len(src) && src[l.i] != '\n' {
			l.i++
		}
	case refused[c] != "":
		return errorf(i, "%s", refused[c])
	case c == '*' || c == '?' || c == '[':
		return errorf(i, "glob patterns (%c) need a shell; quote the word if it is literal", c)
	case c == '~' && !l.cur.started:
		return errorf(i, "~ expansion needs a shell; use $HOME")
	case c == '\'':
		return l.single()
	case c == '"':
		return l.double()
	case c == '\\':
		l.i += 2
		if next != '\n' && i+1 < len(src) {
			l.cur.start(i)
			l.cur.text(string(next), false)
		}
	case c == '$':
		l.cur.start(i)
		p, n, err := expansion(src, i, false)
		if err != nil {
			return err
		}
		l.addExpansion(p)
		l.i = n
	default:
		l.cur.start(i)
		l.cur.text(src[i:i+1], true)
		l.i++
	}
	return nil
}

// addExpansion adds what expansion returned: a variable, or a literal "$".
func (l *lexer) addExpansion(p Part) {
	if p.Var == "" {
		l.cur.text(p.Text, false)
		return
	}
	l.cur.part(p)
}

// single reads '…'.
func (l *lexer) single() error {
	end := strings.IndexByte(l.src[l.i+1:], '\'')
	if end < 0 {
		return errorf(l.i, "unterminated single quote")
	}
	l.cur.start(l.i)
	l.cur.word.Quoted = true
	l.cur.text(l.src[l.i+1:l.i+1+end], false)
	l.i += end + 2
	return nil
}

// double reads "…": \ escapes $ ` " \ and newline; $ expands.
func (l *lexer) double() error {
	open := l.i
	l.cur.start(open)
	l.cur.word.Quoted = true
	l.cur.leadOpen = false
	for l.i++; ; {
		if l.i >= len(l.src) {
			return errorf(open, "unterminated double quote")
		}
		c := l.src[l.i]
		switch {
		case c == '"':
			l.i++
			return nil
		case c == '\\' && l.i+1 < len(l.src) && strings.IndexByte("$`\"\\\n", l.src[l.i+1]) >= 0:
			if l.src[l.i+1] != '\n' {
				l.cur.text(l.src[l.i+1:l.i+2], false)
			}
			l.i += 2
		case c == '`':
			return errorf(l.i, "%s", refused['`'])
		case c == '$':
			p, n, err := expansion(l.src, l.i, true)
			if err != nil {
				return err
			}
			l.addExpansion(p)
			l.i = n
		default:
			l.cur.text(l.src[l.i:l.i+1], false)
			l.i++
		}
	}
}

// Parse reads a command line. Errors are *Error.
func Parse(src string) (Script, error) {
	if err := checkBytes(src); err != nil {
		return Script{}, err
	}
	tokens, err := lex(src)
	if err != nil {
		return Script{}, err
	}
	var s Script
	var cur *Command
	var pending Op
	for _, t := range tokens {
		if t.op != "" {
			if cur == nil {
				if t.op == Seq {
					continue // blank lines, a; ;b
				}
				return Script{}, errorf(t.offset, "syntax error near %s", t.op)
			}
			s.Commands = append(s.Commands, *cur)
			cur, pending = nil, t.op
			continue
		}
		if cur == nil {
			cur = &Command{}
			if len(s.Commands) > 0 {
				cur.Op = pending
			}
		}
		if eq := strings.IndexByte(t.lead, '='); len(cur.Args) == 0 && eq > 0 && isName(t.lead[:eq]) {
			value := t.word
			value.Parts = append([]Part(nil), value.Parts...)
			value.Parts[0].Text = value.Parts[0].Text[eq+1:]
			if value.Parts[0].Text == "" {
				value.Parts = value.Parts[1:]
			}
			if len(value.Parts) == 0 {
				value.Parts = nil
			}
			value.Quoted = false
			cur.Env = append(cur.Env, Assign{Name: t.lead[:eq], Value: value})
			continue
		}
		cur.Args = append(cur.Args, t.word)
	}
	if cur != nil {
		s.Commands = append(s.Commands, *cur)
	} else if pending == And || pending == Or {
		return Script{}, errorf(len(src), "syntax error: the command ends with %s", pending)
	}
	if len(s.Commands) == 0 {
		return Script{}, errorf(0, "empty command")
	}
	return s, nil
}

// checkBytes refuses what no argv can carry: invalid UTF-8 and NUL bytes.
func checkBytes(src string) error {
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRuneInString(src[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return errorf(i, "the command is not valid UTF-8 (byte %#x)", src[i])
		case r == 0:
			return errorf(i, "the command holds a NUL byte")
		}
		i += n
	}
	return nil
}
