package main

// The data model consul-template hands its templates, as Go sees it: typed maps (map[string]string for
// ServiceMeta, NodeMeta, splitToMap), structs, byPort's map[int][]interface{}, executed with consul-template's
// missingkey options (zero by default, error with err_missing_key). JSON data cannot express these types, so
// each case names a data set built here and, the same way, in test/template/consul-model.test.ts.
//
//	go run ./tools/gotemplate consul > test/fixtures/template/consul-model.json

import (
	"bytes"
	"encoding/json"
	"os"
	"runtime"
	"text/template"
)

type healthService struct {
	Node        string
	ID          string
	NodeMeta    map[string]string
	ServiceMeta map[string]string
	Port        int
}

func consulData() interface{} {
	return map[string]interface{}{
		"svc": &healthService{
			Node: "n1", ID: "web-1", Port: 8080,
			NodeMeta:    map[string]string{"rack": "r1"},
			ServiceMeta: map[string]string{"version": "2", "empty": ""},
		},
		"smap":  map[string]string{"a": "x"},
		"iface": map[string]interface{}{"a": "x", "n": nil},
		"ports": map[int][]interface{}{8080: {1, 2}, 10: {3}, 9090: {}},
	}
}

type consulCase struct {
	Name   string  `json:"name"`
	Tmpl   string  `json:"template"`
	Option string  `json:"missingkey"`
	Output *string `json:"output,omitempty"`
	Error  *string `json:"error,omitempty"`
}

func consulTemplates() [][2]string {
	return [][2]string{
		{"smeta-missing", `{{ .svc.ServiceMeta.nope }}|`},
		{"smeta-present", `{{ .svc.ServiceMeta.version }}|{{ .svc.ServiceMeta.empty }}|`},
		{"nmeta-missing", `{{ .svc.NodeMeta.nope }}|{{ .svc.NodeMeta.rack }}`},
		{"smap-missing", `{{ .smap.b }}|{{ .smap.a }}`},
		{"smap-missing-printf", `{{ printf "%q %T" .smap.b .smap.b }}`},
		{"smap-missing-with", `{{ with .smap.b }}set{{ else }}empty{{ end }}`},
		{"smap-missing-if-eq", `{{ if eq .smap.b "" }}eq{{ end }}`},
		{"smap-index-missing", `{{ index .smap "b" }}|{{ printf "%q" (index .smap "b") }}`},
		{"iface-missing", `{{ .iface.b }}|{{ .iface.a }}`},
		{"iface-nil", `{{ .iface.n }}`},
		{"iface-missing-printf", `{{ printf "%v %T" .iface.b .iface.b }}`},
		{"iface-missing-chain", `{{ .iface.b.c }}`},
		{"root-missing", `{{ .nope }}`},
		{"struct-missing-field", `{{ .svc.Nope }}`},
		{"ports-range", `{{ range $k, $v := .ports }}{{ $k }}={{ len $v }} {{ end }}`},
		{"ports-type", `{{ printf "%T" .ports }} {{ len .ports }}`},
		{"ports-print", `{{ .ports }}`},
		{"ports-index", `{{ index .ports 8080 }} {{ index .ports 7 }}`},
		{"ports-index-string", `{{ index .ports "8080" }}`},
		{"ports-field", `{{ .ports.x }}`},
		{"ports-range-else", `{{ range $k, $v := .ports }}{{ if eq $k 10 }}ten{{ end }}{{ end }}`},
	}
}

func genConsul() {
	var out []consulCase
	for _, opt := range []string{"default", "zero", "error"} {
		for _, tc := range consulTemplates() {
			c := consulCase{Name: opt + "/" + tc[0], Tmpl: tc[1], Option: opt}
			t, err := template.New(tc[0]).Option("missingkey=" + opt).Parse(tc[1])
			if err == nil {
				var b bytes.Buffer
				if err = t.Execute(&b, consulData()); err == nil {
					s := b.String()
					c.Output = &s
				}
			}
			if err != nil {
				s := err.Error()
				c.Error = &s
			}
			out = append(out, c)
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(map[string]interface{}{"generator": "tools/gotemplate consul", "go": runtime.Version(), "cases": out}); err != nil {
		panic(err)
	}
}
