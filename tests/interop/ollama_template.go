// Renders an Ollama Modelfile TEMPLATE with Go's own text/template, the engine Ollama
// uses, over the data Ollama gives it: .Messages (Role, Content; consecutive messages of
// one role merged, as Ollama's collate does) and .System (the system messages joined).
// A test-time tool for tests/test_ollama.cpp: go run ollama_template.go < job.json
//   job: {"template": "...", "conversations": [[{"role": "user", "content": "..."}, ...], ...]}
//   out: a JSON array, one rendering (or {"error": "..."}) per conversation.
package main

import (
	"encoding/json"
	"os"
	"strings"
	"text/template"
)

type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type Values struct {
	Messages []*Message
	System   string
	Prompt   string
	Response string
}

func main() {
	var job struct {
		Template      string      `json:"template"`
		Conversations [][]Message `json:"conversations"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&job); err != nil {
		panic(err)
	}
	tmpl, err := template.New("").Option("missingkey=zero").Parse(job.Template)
	if err != nil {
		json.NewEncoder(os.Stdout).Encode(map[string]string{"parse_error": err.Error()})
		os.Exit(1)
	}
	out := []any{}
	for _, conversation := range job.Conversations {
		var v Values
		var system []string
		for i := range conversation {
			m := conversation[i]
			if m.Role == "system" {
				system = append(system, m.Content)
			}
			if n := len(v.Messages); n > 0 && v.Messages[n-1].Role == m.Role {
				v.Messages[n-1].Content += "\n\n" + m.Content
			} else {
				v.Messages = append(v.Messages, &m)
			}
		}
		v.System = strings.Join(system, "\n\n")
		var b strings.Builder
		if err := tmpl.Execute(&b, v); err != nil {
			out = append(out, map[string]string{"error": err.Error()})
		} else {
			out = append(out, b.String())
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
