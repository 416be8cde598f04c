package dockerfile

import (
	"fmt"
	"strings"
)

// Lookup returns a variable's value and whether it is set.
type Lookup func(name string) (string, bool)

// Words splits s into words the way docker reads the arguments of COPY,
// ADD, ENV, LABEL, EXPOSE, USER, WORKDIR and FROM: whitespace separates
// words; 'single' quotes keep their content as it is; "double" quotes keep
// spaces and allow substitution; the escape character takes the next
// character literally; $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
// ${VAR:+alternative} and ${VAR+alternative} are substituted. Quotes are
// removed.
func Words(s string, vars Lookup, escape byte) ([]string, error) {
	lx := &lexer{s: s, vars: vars, escape: escape}
	return lx.words()
}

// Word is Words for a single value: whitespace does not split it.
func Word(s string, vars Lookup, escape byte) (string, error) {
	lx := &lexer{s: s, vars: vars, escape: escape, whole: true}
	w, err := lx.words()
	if err != nil || len(w) == 0 {
		return "", err
	}
	return w[0], nil
}

type lexer struct {
	s      string
	i      int
	vars   Lookup
	escape byte
	whole  bool // one word: keep whitespace
}

func (lx *lexer) words() ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	for lx.i < len(lx.s) {
		c := lx.s[lx.i]
		switch {
		case !lx.whole && (c == ' ' || c == '\t'):
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
			lx.i++
			continue
		case c == lx.escape:
			lx.i++
			if lx.i < len(lx.s) {
				cur.WriteByte(lx.s[lx.i])
				lx.i++
			} else {
				cur.WriteByte(c)
			}
		case c == '\'':
			end := strings.IndexByte(lx.s[lx.i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unmatched ' in %q", lx.s)
			}
			cur.WriteString(lx.s[lx.i+1 : lx.i+1+end])
			lx.i += end + 2
		case c == '"':
			lx.i++
			closed := false
			for lx.i < len(lx.s) {
				d := lx.s[lx.i]
				if d == '"' {
					lx.i++
					closed = true
					break
				}
				if d == lx.escape && lx.i+1 < len(lx.s) && strings.IndexByte("\"$`\\", lx.s[lx.i+1]) >= 0 {
					cur.WriteByte(lx.s[lx.i+1])
					lx.i += 2
					continue
				}
				if d == '$' {
					v, err := lx.dollar()
					if err != nil {
						return nil, err
					}
					cur.WriteString(v)
					continue
				}
				cur.WriteByte(d)
				lx.i++
			}
			if !closed {
				return nil, fmt.Errorf("unmatched \" in %q", lx.s)
			}
		case c == '$':
			v, err := lx.dollar()
			if err != nil {
				return nil, err
			}
			cur.WriteString(v)
			if v == "" {
				continue // an unquoted empty expansion makes no word of its own
			}
		default:
			cur.WriteByte(c)
			lx.i++
		}
		inWord = true
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// dollar substitutes the variable at lx.i (which is at '$').
func (lx *lexer) dollar() (string, error) {
	lx.i++ // '$'
	if lx.i >= len(lx.s) {
		return "$", nil
	}
	if lx.s[lx.i] != '{' {
		start := lx.i
		for lx.i < len(lx.s) && isNameByte(lx.s[lx.i], lx.i == start) {
			lx.i++
		}
		if lx.i == start {
			return "$", nil // a lone $ stays
		}
		v, _ := lx.vars(lx.s[start:lx.i])
		return v, nil
	}
	end := strings.IndexByte(lx.s[lx.i:], '}')
	if end < 0 {
		return "", fmt.Errorf("missing } in %q", lx.s)
	}
	body := lx.s[lx.i+1 : lx.i+end]
	lx.i += end + 1
	name := body
	op, word := "", ""
	for j := 0; j < len(body); j++ {
		if !isNameByte(body[j], j == 0) {
			name = body[:j]
			rest := body[j:]
			switch {
			case strings.HasPrefix(rest, ":-"), strings.HasPrefix(rest, ":+"):
				op, word = rest[:2], rest[2:]
			case strings.HasPrefix(rest, "-"), strings.HasPrefix(rest, "+"):
				op, word = rest[:1], rest[1:]
			default:
				return "", fmt.Errorf("bad substitution ${%s}: glassbox knows ${VAR}, ${VAR:-default} and ${VAR:+alternative}", body)
			}
			break
		}
	}
	if name == "" {
		return "", fmt.Errorf("bad substitution ${%s}: no variable name", body)
	}
	val, set := lx.vars(name)
	if op != "" {
		sub := &lexer{s: word, vars: lx.vars, escape: lx.escape, whole: true}
		w, err := sub.words()
		if err != nil {
			return "", err
		}
		word = strings.Join(w, "")
	}
	switch op {
	case ":-":
		if val == "" {
			return word, nil
		}
	case "-":
		if !set {
			return word, nil
		}
	case ":+":
		if val != "" {
			return word, nil
		}
		return "", nil
	case "+":
		if set {
			return word, nil
		}
		return "", nil
	}
	return val, nil
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

// KeyValues reads the arguments of ENV and LABEL: KEY=VALUE pairs
// (values quoted or escaped as Words reads them), or for ENV the legacy
// form "KEY VALUE", where the value is the rest of the line.
func KeyValues(args string, legacy bool, vars Lookup, escape byte) ([][2]string, error) {
	words, err := Words(args, vars, escape)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("needs KEY=VALUE")
	}
	if !strings.Contains(words[0], "=") {
		if !legacy {
			return nil, fmt.Errorf("%q is not KEY=VALUE", words[0])
		}
		key, rest, _ := strings.Cut(strings.TrimSpace(args), " ")
		if i := strings.IndexAny(strings.TrimSpace(args), " \t"); i >= 0 {
			key, rest = strings.TrimSpace(args)[:i], strings.TrimSpace(args)[i+1:]
		}
		if strings.TrimSpace(rest) == "" {
			return nil, fmt.Errorf("ENV %s needs a value (ENV %s=VALUE)", key, key)
		}
		val, err := Word(strings.TrimSpace(rest), vars, escape)
		if err != nil {
			return nil, err
		}
		return [][2]string{{key, val}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
