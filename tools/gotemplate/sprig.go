//go:build sprig

package main

import (
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
