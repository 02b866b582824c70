//go:build sprig

package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/davecgh/go-spew/spew"
)

// sprigFuncs is the part of consul-template's function map that tend's sprig and spew
// fixtures check: every sprig v3 function under "sprig_" + its name, and the four spew
// functions with spew's default configuration. spew_dump and spew_printf print on
// consul-template's stdout; here they print into spewOut, which the case records.
func sprigFuncs() template.FuncMap {
	m := template.FuncMap{
		"spew_sdump":   func(args ...interface{}) (string, error) { return spew.Sdump(args...), nil },
		"spew_sprintf": func(format string, args ...interface{}) (string, error) { return spew.Sprintf(format, args...), nil },
		"spew_dump": func(args ...interface{}) (string, error) {
			spew.Fdump(&spewOut, args...)
			return "", nil
		},
		"spew_printf": func(format string, args ...interface{}) (string, error) {
			spew.Fprintf(&spewOut, format, args...)
			return "", nil
		},
	}
	for k, v := range sprig.TxtFuncMap() {
		m["sprig_"+k] = v
	}
	return m
}

// sprigTestDir is Debian's copy of sprig v3.2.3 (golang-github-masterminds-sprig-dev).
const sprigTestDir = "/usr/share/gocode/src/github.com/Masterminds/sprig"

// sprigTestCases takes every template written in sprig's own *_test.go files (each string
// literal holding "{{"), renames its sprig functions to consul-template's sprig_ names, and
// keeps those whose Go output is repeatable: a template that calls a function tend refuses
// (clock, randomness, environment, network) or whose output changes from run to run (Go's
// random map order) is left out.
func sprigTestCases() []Case {
	names := map[string]bool{}
	for k := range sprig.TxtFuncMap() {
		names[k] = true
	}
	refused := refusedSprig()
	files, _ := filepath.Glob(filepath.Join(sprigTestDir, "*_test.go"))
	sort.Strings(files)
	var out []Case
	seen := map[string]bool{}
	for _, file := range files {
		if strings.Contains(file, "windows") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			panic(err)
		}
		n := 0
		ast.Inspect(f, func(node ast.Node) bool {
			lit, ok := node.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			// Templates built with Sprintf ("%s" placeholders) are not templates yet.
			if err != nil || !strings.Contains(s, "{{") || strings.Contains(s, "%s") || seen[s] {
				return true
			}
			seen[s] = true
			t, used := prefixSprig(s, names)
			for u := range used {
				if refused[u] {
					return true
				}
			}
			n++
			c := Case{Name: fmt.Sprintf("sprig-tests/%s-%d", strings.TrimSuffix(filepath.Base(file), "_test.go"), n), Tmpl: t, Data: SD, Option: "zero"}
			first := run(c)
			for i := 0; i < 8; i++ {
				again := run(c)
				if !sameResult(first, again) {
					return true
				}
			}
			out = append(out, c)
			return true
		})
	}
	return out
}

func sameResult(a, b Result) bool {
	str := func(p *string) string {
		if p == nil {
			return "\x00nil"
		}
		return *p
	}
	return str(a.Output) == str(b.Output) && str(a.Error) == str(b.Error) && str(a.Stdout) == str(b.Stdout)
}

// prefixSprig renames the sprig functions called in a template's actions (identifiers outside
// string literals, not after '.' or '$').
func prefixSprig(s string, names map[string]bool) (string, map[string]bool) {
	used := map[string]bool{}
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		action := s[i : i+j+2]
		s = s[i+j+2:]
		var quote byte
		for k := 0; k < len(action); k++ {
			c := action[k]
			if quote != 0 {
				b.WriteByte(c)
				if c == '\\' && quote == '"' && k+1 < len(action) {
					k++
					b.WriteByte(action[k])
				} else if c == quote {
					quote = 0
				}
				continue
			}
			if c == '"' || c == '`' || c == '\'' {
				quote = c
				b.WriteByte(c)
				continue
			}
			if isIdentStart(c) && (k == 0 || !isIdentChar(action[k-1]) && action[k-1] != '.' && action[k-1] != '$') {
				e := k
				for e < len(action) && isIdentChar(action[e]) {
					e++
				}
				word := action[k:e]
				if names[word] {
					used[word] = true
					b.WriteString("sprig_")
				}
				b.WriteString(word)
				k = e - 1
				continue
			}
			b.WriteByte(c)
		}
	}
	return b.String(), used
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }

// refusedSprig lists the sprig functions tend refuses (clock, randomness, environment, network).
func refusedSprig() map[string]bool {
	refused := map[string]bool{}
	for _, n := range []string{"ago", "date", "date_in_zone", "date_modify", "dateInZone", "dateModify",
		"htmlDate", "htmlDateInZone", "now", "must_date_modify", "mustDateModify", "mustToDate", "toDate",
		"unixEpoch", "randAlphaNum", "randAlpha", "randAscii", "randNumeric", "randBytes", "randInt", "uuidv4",
		"shuffle", "bcrypt", "htpasswd", "genPrivateKey", "buildCustomCert", "genCA", "genCAWithKey",
		"genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey",
		"encryptAES", "env", "expandenv", "getHostByName"} {
		refused[n] = true
	}
	return refused
}

// fuzzArgs are the arguments the generated calls pick from: every kind of value, empty ones,
// nil, missing keys and values built by sprig itself.
var fuzzArgs = []string{`"abc"`, `""`, `"a,b"`, `"héllo ☃"`, `"0x1F"`, `"12.50"`, `"-3"`, `1`, `0`, `-3`, `2.5`,
	`true`, `false`, `nil`, `.l`, `.el`, `.ls`, `.m`, `.em`, `.nm`, `.n`, `.nope`, `.f`, `.fi`, `.mixed`, `.ln`,
	`(sprig_list 1 "a" .n)`, `(sprig_dict "a" 1 "b" "")`, `(sprig_splitList "," "x,y")`, `(sprig_add 2 3)`,
	`"a b  c"`, `"  x\t"`, `"\n"`, `"1.5"`, `"a/b/../c.txt"`, `"https://u@a.b:8/c?d=1#e"`, `"1.2.3"`, `"^1.0"`,
	`"[a-z]+"`, `"("`, `"{\"a\":[1,2]}"`, `"aGk="`, `"NBSWY3DP"`, `"HTTPServer_id"`, `.u`, `.sp`, `.ld`, `.m2`,
	`.big`, `100`, `-1`, `1e3`, `(sprig_semver "1.2.3")`, `(sprig_until 3)`}

// sprigFuzzCases calls every implemented sprig function with arguments drawn (with a fixed seed)
// from fuzzArgs, keeping the calls whose Go result is repeatable.
func sprigFuzzCases(perFunc int) []Case {
	// SPRIG_FUZZ=N,SEED explores more calls without changing the committed fixtures.
	seed := int64(16)
	if v := os.Getenv("SPRIG_FUZZ"); v != "" {
		fmt.Sscanf(v, "%d,%d", &perFunc, &seed)
	}
	refused := refusedSprig()
	var names []string
	for k := range sprig.TxtFuncMap() {
		// keys and values return Go's random map order; derivePassword is slow (scrypt).
		if !refused[k] && k != "derivePassword" && k != "keys" && k != "values" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	rng := rand.New(rand.NewSource(seed))
	var out []Case
	out = append(out, spewFuzzCases(rng, perFunc)...)
	for _, name := range names {
		for i := 0; i < perFunc; i++ {
			nargs := rng.Intn(4)
			args := make([]string, nargs)
			for j := range args {
				args[j] = fuzzArgs[rng.Intn(len(fuzzArgs))]
			}
			t := "{{sprig_" + name
			if len(args) > 0 {
				t += " " + strings.Join(args, " ")
			}
			t += "}}"
			c := Case{Name: fmt.Sprintf("fuzz/%s-%d", name, i), Tmpl: t, Data: SD, Option: "zero"}
			first := run(c)
			ok := true
			for k := 0; k < 4 && ok; k++ {
				ok = sameResult(first, run(c))
			}
			if ok {
				out = append(out, c)
			}
		}
	}
	return out
}

// spewFuzzCases calls the spew functions the same way. Maps with more than one key are left out
// of their arguments: spew prints them in Go's random order.
func spewFuzzCases(rng *rand.Rand, perFunc int) []Case {
	var args []string
	for _, a := range fuzzArgs {
		if a != ".m" && a != ".m2" && !strings.Contains(a, "sprig_dict") {
			args = append(args, a)
		}
	}
	formats := []string{`"%v"`, `"%+v"`, `"%#v"`, `"%#+v"`, `"%v|%#v"`, `"%d %s"`, `"%q"`, `"%x"`, `"%T"`, `"%5v"`, `"x"`}
	var out []Case
	for _, name := range []string{"spew_sdump", "spew_sprintf", "spew_dump", "spew_printf"} {
		for i := 0; i < perFunc*2; i++ {
			t := "{{" + name
			if strings.HasSuffix(name, "printf") {
				t += " " + formats[rng.Intn(len(formats))]
			}
			for j := rng.Intn(3); j >= 0; j-- {
				t += " " + args[rng.Intn(len(args))]
			}
			t += "}}"
			c := Case{Name: fmt.Sprintf("fuzz/%s-%d", name, i), Tmpl: t, Data: SD, Option: "zero"}
			first := run(c)
			ok := true
			for k := 0; k < 4 && ok; k++ {
				ok = sameResult(first, run(c))
			}
			if ok {
				out = append(out, c)
			}
		}
	}
	return out
}
