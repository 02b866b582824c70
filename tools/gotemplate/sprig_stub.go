//go:build !sprig

package main

import "text/template"

// Without the sprig tag the generator needs only Go's standard library (see README.md).
func sprigFuncs() template.FuncMap {
	panic("the sprig fixtures need sprig and go-spew: build with -tags sprig (see tools/gotemplate/README.md)")
}

func sprigTestCases() []Case { return nil }

func sprigFuzzCases(int) []Case { return nil }
