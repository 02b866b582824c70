package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// benchTemplate builds the benchmark template: 1,000 lines of assorted actions around range
// blocks over a 10,000-key tree. The same files drive tend's bench (bench/template/run.mjs).
func benchTemplate() string {
	var b strings.Builder
	b.WriteString("# generated config for {{ .name }}\n")
	lines := 1
	for i := 0; lines < 980; i++ {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "setting_%d = {{ index .settings \"k%d\" }}\n", i, i%50)
		case 1:
			fmt.Fprintf(&b, "{{ if gt .count %d }}big{{ else }}small{{ end }} %d\n", i*10, i)
		case 2:
			fmt.Fprintf(&b, "{{ printf \"%%-10s|%%5d|%%.2f\" .name %d .ratio }}\n", i)
		case 3:
			fmt.Fprintf(&b, "{{ with .nested.a }}{{ .b }}{{ end }} {{ len .pairs }} {{ $.name | html }}\n")
		default:
			fmt.Fprintf(&b, "static line %d with some text that is copied verbatim\n", i)
		}
		lines++
	}
	b.WriteString("{{- range $k, $v := .tree }}\n")
	b.WriteString("{{ $k }}={{ $v }}\n")
	b.WriteString("{{- end }}\n")
	b.WriteString("{{- range .pairs }}\n")
	b.WriteString("{{- if .Flag }}{{ .Key }}: {{ printf \"%q\" .Value }}{{ else }}# {{ .Key }} off{{ end }}\n")
	b.WriteString("{{- end }}\n")
	b.WriteString("{{- range $i, $p := .pairs }}{{ if lt $i 2000 }}{{ len $p.Key }},{{ end }}{{ end }}\n")
	lines += 7
	for ; lines < 1000; lines++ {
		fmt.Fprintf(&b, "trailer %d {{ .name }}\n", lines)
	}
	return b.String()
}

func benchData() string {
	tree := map[string]string{}
	type pair struct {
		Key   string
		Value string
		Flag  bool
	}
	pairs := make([]pair, 0, 10000)
	for i := 0; i < 10000; i++ {
		k := fmt.Sprintf("app/config/section%02d/key%05d", i%37, i)
		v := fmt.Sprintf("value-%d", i*7919%10007)
		tree[k] = v
		pairs = append(pairs, pair{k, v, i%3 != 0})
	}
	settings := map[string]string{}
	for i := 0; i < 50; i++ {
		settings[fmt.Sprintf("k%d", i)] = fmt.Sprintf("s%d", i)
	}
	data := map[string]interface{}{
		"name": "bench<svc>", "count": 5000, "ratio": 0.75,
		"nested":   map[string]interface{}{"a": map[string]interface{}{"b": "deep"}},
		"settings": settings, "tree": tree, "pairs": pairs,
	}
	out, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	return string(out)
}

func bench() {
	dir := "bench/template/fixture"
	if len(os.Args) > 2 {
		dir = os.Args[2]
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic(err)
	}
	text := benchTemplate()
	dataText := benchData()
	must(os.WriteFile(filepath.Join(dir, "bench.tmpl"), []byte(text), 0o644))
	must(os.WriteFile(filepath.Join(dir, "bench.json"), []byte(dataText), 0o644))
	data := decode(dataText)

	const parseRuns = 200
	start := time.Now()
	var t *template.Template
	for i := 0; i < parseRuns; i++ {
		t = template.Must(template.New("bench").Parse(text))
	}
	parseMs := float64(time.Since(start).Microseconds()) / 1000 / parseRuns

	var buf bytes.Buffer
	must(t.Execute(&buf, data)) // warm-up
	const execRuns = 30
	start = time.Now()
	for i := 0; i < execRuns; i++ {
		buf.Reset()
		must(t.Execute(&buf, data))
	}
	execMs := float64(time.Since(start).Microseconds()) / 1000 / execRuns
	sum := sha256.Sum256(buf.Bytes())
	result := map[string]interface{}{
		"go": strings.TrimPrefix(fmt.Sprint(runtimeVersion()), "go"), "parse_ms": parseMs, "execute_ms": execMs,
		"output_bytes": buf.Len(), "output_lines": bytes.Count(buf.Bytes(), []byte("\n")),
		"template_lines": strings.Count(text, "\n"), "output_sha256": hex.EncodeToString(sum[:]),
	}
	out, _ := json.MarshalIndent(result, "", "  ")
	must(os.WriteFile(filepath.Join(dir, "go-result.json"), append(out, '\n'), 0o644))
	fmt.Println(string(out))
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
