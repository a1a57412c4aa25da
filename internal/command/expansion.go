package command

import (
	"regexp"
	"strings"
)

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)

// isName reports whether s is a variable name.
func isName(s string) bool { return s != "" && nameRE.FindString(s) == s }

// expansion reads the expansion at src[i] == '$' and returns it with the offset after it. A "$"
// that starts none (at the end, before a space) is the literal text "$".
func expansion(src string, i int, quoted bool) (Part, int, error) {
	rest := src[i+1:]
	switch {
	case strings.HasPrefix(rest, "("):
		return Part{}, 0, errorf(i, "command substitution $(…) needs a shell")
	case strings.HasPrefix(rest, "{"):
		return braced(src, i, quoted)
	case nameRE.MatchString(rest):
		name := nameRE.FindString(rest)
		return Part{Var: name}, i + 1 + len(name), nil
	case rest != "" && strings.IndexByte("0123456789@*#?$!-", rest[0]) >= 0:
		return Part{}, 0, errorf(i, "special parameter $%c needs a shell", rest[0])
	}
	return Part{Text: "$"}, i + 1, nil
}

// braced reads ${NAME}, ${NAME:-default} or ${NAME-default} at src[i].
func braced(src string, i int, quoted bool) (Part, int, error) {
	end, err := closingBrace(src, i+2)
	if err != nil {
		return Part{}, 0, err
	}
	body := src[i+2 : end]
	name := nameRE.FindString(body)
	rest := body[len(name):]
	p := Part{Var: name}
	switch {
	case name == "":
		return Part{}, 0, errorf(i, "unsupported parameter expansion ${%s}", body)
	case rest == "":
		return p, end + 1, nil
	case strings.HasPrefix(rest, ":-"):
		p.IfEmpty = true
		rest = rest[2:]
	case strings.HasPrefix(rest, "-"):
		rest = rest[1:]
	default:
		return Part{}, 0, errorf(i, "unsupported parameter expansion ${%s}", body)
	}
	def, err := defaultWord(src, end-len(rest), end, quoted)
	if err != nil {
		return Part{}, 0, err
	}
	p.Default = &def
	return p, end + 1, nil
}

// closingBrace finds the } that closes the ${ before src[from], skipping \-escaped characters
// and nested ${…}.
func closingBrace(src string, from int) (int, error) {
	depth := 0
	for j := from; j < len(src); j++ {
		switch {
		case src[j] == '\\':
			j++
		case src[j] == '$' && j+1 < len(src) && src[j+1] == '{':
			depth++
			j++
		case src[j] == '}' && depth == 0:
			return j, nil
		case src[j] == '}':
			depth--
		}
	}
	return 0, errorf(from-2, "unterminated ${")
}

// defaultWord parses src[from:to], the default of ${NAME:-…}: literal text, \ escapes and
// expansions; quotes inside are refused, and so are glob characters outside double quotes.
func defaultWord(src string, from, to int, quoted bool) (Word, error) {
	var w Word
	for j := from; j < to; {
		c := src[j]
		switch {
		case c == '\\' && j+1 < to:
			w.Parts = appendText(w.Parts, src[j+1:j+2])
			j += 2
		case c == '\'' || c == '"':
			return Word{}, errorf(j, "quotes inside ${NAME:-…} need a shell; quote the whole word instead")
		case c == '`':
			return Word{}, errorf(j, "%s", refused['`'])
		case !quoted && (c == '*' || c == '?' || c == '['):
			return Word{}, errorf(j, "glob patterns (%c) need a shell; quote the word if it is literal", c)
		case c == '$':
			p, n, err := expansion(src[:to], j, quoted)
			if err != nil {
				return Word{}, err
			}
			if p.Var == "" {
				w.Parts = appendText(w.Parts, p.Text)
			} else {
				w.Parts = append(w.Parts, p)
			}
			j = n
		default:
			w.Parts = appendText(w.Parts, src[j:j+1])
			j++
		}
	}
	return w, nil
}
