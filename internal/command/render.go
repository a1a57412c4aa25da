package command

import "strings"

// String renders the script as a command line that parses back to the same Script.
func (s Script) String() string {
	var b strings.Builder
	for i, c := range s.Commands {
		if i > 0 {
			op := c.Op
			if op == "" {
				op = Seq
			}
			b.WriteString(" " + string(op) + " ")
		}
		var words []string
		for _, a := range c.Env {
			words = append(words, a.Name+"="+renderWord(Word{Parts: a.Value.Parts}))
		}
		for _, w := range c.Args {
			words = append(words, renderWord(w))
		}
		b.WriteString(strings.Join(words, " "))
	}
	return b.String()
}

// unquotedSpecial are the characters an unquoted word escapes with \.
const unquotedSpecial = " \t\n;&|<>()`'\"\\$#*?[~="

// renderWord renders a word: in double quotes when it was quoted, else with \ escapes.
func renderWord(w Word) string {
	var b strings.Builder
	if w.Quoted {
		b.WriteByte('"')
	}
	for _, p := range w.Parts {
		if p.Var != "" {
			b.WriteString(renderVar(p))
			continue
		}
		for i := 0; i < len(p.Text); i++ {
			c := p.Text[i]
			switch {
			case w.Quoted && strings.IndexByte("$`\"\\", c) >= 0:
				b.WriteByte('\\')
			case !w.Quoted && c == '\n':
				// Unquoted text never holds a newline (Parse makes it quoted); quote it anyway.
				b.WriteString("'\n'")
				continue
			case !w.Quoted && strings.IndexByte(unquotedSpecial, c) >= 0:
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
	if w.Quoted {
		b.WriteByte('"')
	}
	return b.String()
}

// renderVar renders ${NAME}, ${NAME:-default} or ${NAME-default}.
func renderVar(p Part) string {
	if p.Default == nil {
		return "${" + p.Var + "}"
	}
	op := "-"
	if p.IfEmpty {
		op = ":-"
	}
	var b strings.Builder
	b.WriteString("${" + p.Var + op)
	for _, d := range p.Default.Parts {
		if d.Var != "" {
			b.WriteString(renderVar(d))
			continue
		}
		for i := 0; i < len(d.Text); i++ {
			if strings.IndexByte("\\$}'\"`*?[", d.Text[i]) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(d.Text[i])
		}
	}
	b.WriteString("}")
	return b.String()
}
