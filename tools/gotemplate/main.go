// Command gotemplate produces the differential fixtures of tend's template engine from Go's own
// text/template, and times Go on the template benchmark.
//
//	go run ./tools/gotemplate gen > test/fixtures/template/go-cases.json
//	go run ./tools/gotemplate bench
//	go run ./tools/gotemplate sprig > test/fixtures/template/sprig-cases.json
//
// Only Go's standard library is used. Data is JSON decoded with UseNumber: numbers written with
// a fraction or exponent become float64, other numbers int, the same rule as tend's
// parseJSONData.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/template"
)

type Case struct {
	Name   string `json:"name"`
	Tmpl   string `json:"template"`
	Data   string `json:"data"`
	Option string `json:"missingkey,omitempty"`
	Left   string `json:"left,omitempty"`
	Right  string `json:"right,omitempty"`
	Exec   string `json:"exec,omitempty"`
}

type Result struct {
	Case
	Output *string `json:"output,omitempty"`
	// Stdout is what spew_dump and spew_printf wrote (consul-template prints it on its stdout).
	Stdout *string `json:"stdout,omitempty"`
	Error  *string `json:"error,omitempty"`
	Phase  string  `json:"phase,omitempty"`
}

// convert turns json.Number into int or float64, recursively.
func convert(v interface{}) interface{} {
	switch t := v.(type) {
	case json.Number:
		s := string(t)
		if strings.ContainsAny(s, ".eE") {
			f, _ := t.Float64()
			return f
		}
		if i, err := t.Int64(); err == nil {
			return int(i)
		}
		f, _ := t.Float64()
		return f
	case map[string]interface{}:
		for k, e := range t {
			t[k] = convert(e)
		}
		return t
	case []interface{}:
		for i, e := range t {
			t[i] = convert(e)
		}
		return t
	}
	return v
}

func decode(s string) interface{} {
	if s == "" {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v interface{}
	if err := d.Decode(&v); err != nil {
		panic(fmt.Sprintf("bad data %q: %v", s, err))
	}
	return convert(v)
}

// spewOut collects what spew_dump and spew_printf print during one case.
var spewOut bytes.Buffer

// funcs is set by the sprig mode: consul-template's sprig_* and spew_* functions.
var funcs template.FuncMap

func run(c Case) (r Result) {
	r.Case = c
	defer func() {
		if p := recover(); p != nil {
			msg := fmt.Sprint(p)
			r.Error = &msg
			r.Phase = "panic"
		}
	}()
	t := template.New(c.Name)
	if funcs != nil {
		spewOut.Reset()
		t = t.Funcs(funcs)
		defer func() {
			if spewOut.Len() > 0 {
				s := spewOut.String()
				r.Stdout = &s
			}
		}()
	}
	if c.Option != "" {
		t = t.Option("missingkey=" + c.Option)
	}
	if c.Left != "" || c.Right != "" {
		t = t.Delims(c.Left, c.Right)
	}
	t, err := t.Parse(c.Tmpl)
	if err != nil {
		msg := err.Error()
		r.Error = &msg
		r.Phase = "parse"
		return
	}
	var buf bytes.Buffer
	if c.Exec != "" {
		err = t.ExecuteTemplate(&buf, c.Exec, decode(c.Data))
	} else {
		err = t.Execute(&buf, decode(c.Data))
	}
	if err != nil {
		msg := err.Error()
		r.Error = &msg
		r.Phase = "exec"
		return
	}
	out := buf.String()
	r.Output = &out
	return
}

func runtimeVersion() string { return runtime.Version() }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gotemplate gen|sprig|bench")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "gen", "sprig":
		cases := allCases()
		if os.Args[1] == "sprig" {
			funcs = sprigFuncs()
			cases = append(append(sprigCases(), sprigTestCases()...), sprigFuzzCases(8)...)
		}
		var results []Result
		seen := map[string]bool{}
		for _, c := range cases {
			if seen[c.Name] {
				panic("duplicate case name " + c.Name)
			}
			seen[c.Name] = true
			results = append(results, run(c))
		}
		out := map[string]interface{}{
			"generator": "tools/gotemplate " + os.Args[1],
			"go":        runtime.Version(),
			"cases":     results,
		}
		if funcs != nil {
			// Most sprig cases share one data document: write it once.
			var slim []map[string]interface{}
			for _, r := range results {
				b, _ := json.Marshal(r)
				var m map[string]interface{}
				_ = json.Unmarshal(b, &m)
				if r.Data == SD {
					delete(m, "data")
				}
				slim = append(slim, m)
			}
			out["cases"] = slim
			out["defaultData"] = SD
			// The names the fixtures were rendered with, so tend's list can be checked against them.
			var names []string
			for k := range funcs {
				names = append(names, k)
			}
			sort.Strings(names)
			out["functions"] = names
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", " ")
		if err := enc.Encode(out); err != nil {
			panic(err)
		}
	case "bench":
		bench()
	case "consul":
		genConsul()
	case "sockaddr":
		sockaddrGen()
	case "sockaddr-real":
		sockaddrRealGen()
	case "sockaddr-rfcs":
		sockaddrRFCs()
	default:
		fmt.Fprintln(os.Stderr, "usage: gotemplate gen|sprig|bench")
		os.Exit(2)
	}
}
