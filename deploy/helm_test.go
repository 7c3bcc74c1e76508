package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// chartValues are the values files the chart is checked with: its defaults
// (""), and every file under ci/ (chart-testing's convention), one per
// mode and variant.
func chartValues(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(path("deploy/helm/burnwatch/ci/*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{""}, files...)
}

// TestHelmChart runs `helm lint --strict` and `helm template` with each
// values file, runs yamllint on what it renders, and checks the rendered
// objects like the Kubernetes manifests (checkManifests): every collector
// config validates with its container's environment, spec files load,
// probes, ports, volumes, secrets and security contexts hold. Each mode
// renders the workload it promises.
func TestHelmChart(t *testing.T) {
	helm := tool(t, "helm", installHelm)
	chart := path("deploy/helm/burnwatch")
	modes := map[string]bool{}
	for _, values := range chartValues(t) {
		name := "defaults"
		args := []string{}
		var v struct {
			Mode  string
			Specs struct {
				ExistingConfigMap string `yaml:"existingConfigMap"`
			}
			Persistence struct{ Enabled *bool }
		}
		if values != "" {
			name = strings.TrimSuffix(filepath.Base(values), "-values.yaml")
			args = append(args, "-f", values)
			if err := yaml.Unmarshal([]byte(readFile(t, filepath.ToSlash(strings.TrimPrefix(values, root+string(filepath.Separator))))), &v); err != nil {
				t.Fatal(err)
			}
		}
		if v.Mode == "" {
			v.Mode = "gateway"
		}
		modes[v.Mode] = true
		t.Run(name, func(t *testing.T) {
			command(t, nil, nil, helm, append([]string{"lint", "--strict", chart}, args...)...)
			out := command(t, nil, nil, helm, append([]string{"template", "burnwatch", chart, "--namespace", "burnwatch"}, args...)...)
			t.Run("yamllint", func(t *testing.T) {
				yamllint := tool(t, "yamllint", installYamllint)
				command(t, []byte(out), nil, yamllint, "-c", path("deploy/yamllint.yaml"), "-")
			})
			objs := decodeObjects(t, "helm template", []byte(out))
			var external []string
			if v.Specs.ExistingConfigMap != "" {
				external = append(external, v.Specs.ExistingConfigMap)
			}
			checkManifests(t, objs, external...)

			kinds := map[string]object{}
			for _, o := range objs {
				kinds[o.kind()] = o
			}
			persistent := v.Persistence.Enabled == nil || *v.Persistence.Enabled
			switch {
			case v.Mode == "agent":
				svc := kinds["Service"]
				if kinds["DaemonSet"] == nil || str(get(svc, "spec", "internalTrafficPolicy")) != "Local" {
					t.Error("agent: want a DaemonSet behind a Service with internalTrafficPolicy: Local")
				}
			case v.Mode == "gateway" && persistent:
				if ss := kinds["StatefulSet"]; ss == nil || len(maps(get(ss, "spec", "volumeClaimTemplates"))) == 0 {
					t.Error("gateway with persistence: want a StatefulSet with a volumeClaimTemplate")
				}
			case v.Mode == "gateway":
				if kinds["Deployment"] == nil {
					t.Error("gateway without persistence: want a Deployment")
				}
			case v.Mode == "sidecar":
				for k := range kinds {
					if k != "ConfigMap" {
						t.Errorf("sidecar: renders a %s; want only the ConfigMaps", k)
					}
				}
			}
			if v.Mode != "sidecar" && kinds["Service"] == nil {
				t.Errorf("%s: no Service", v.Mode)
			}
		})
	}
	for _, m := range []string{"gateway", "agent", "sidecar"} {
		if !modes[m] {
			t.Errorf("no values file under ci/ checks mode %s", m)
		}
	}
	t.Run("unknown mode", func(t *testing.T) {
		out, err := tryCommand(nil, nil, helm, "template", "burnwatch", chart, "--set", "mode=proxy")
		if err == nil || !strings.Contains(out, "mode:") {
			t.Errorf("helm template --set mode=proxy: want an error naming mode, got %v\n%s", err, out)
		}
	})
}

// TestHelmNotes renders NOTES.txt (helm template leaves it out) for each
// values file, through a copy of the chart that renders it as a ConfigMap.
func TestHelmNotes(t *testing.T) {
	helm := tool(t, "helm", installHelm)
	chart := filepath.Join(t.TempDir(), "burnwatch")
	if err := os.CopyFS(chart, os.DirFS(path("deploy/helm/burnwatch"))); err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(chart, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(chart, "notes.txt"), notes, 0o644); err != nil {
		t.Fatal(err)
	}
	wrapper := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: |\n    {{- tpl (.Files.Get \"notes.txt\") . | nindent 4 }}\n"
	if err := os.WriteFile(filepath.Join(chart, "templates", "zz-notes.yaml"), []byte(wrapper), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, values := range chartValues(t) {
		args := []string{"template", "burnwatch", chart, "--show-only", "templates/zz-notes.yaml"}
		if values != "" {
			args = append(args, "-f", values)
		}
		out := command(t, nil, nil, helm, args...)
		objs := decodeObjects(t, "NOTES.txt", []byte(out))
		if len(objs) != 1 || !strings.Contains(str(get(objs[0], "data", "notes")), "Burnwatch") {
			t.Errorf("NOTES.txt with %s: rendered %q", filepath.Base(values), out)
		}
		// The sidecar's NOTES hold the container to paste: it must parse.
		if text := str(get(objs[0], "data", "notes")); strings.Contains(text, "initContainers:") {
			start := strings.Index(text, "initContainers:")
			snippet := text[strings.LastIndex(text[:start], "\n")+1:]
			snippet = snippet[:strings.Index(snippet, "\nand point")]
			var pod map[string]any
			if err := yaml.Unmarshal([]byte(snippet), &pod); err != nil {
				t.Errorf("the sidecar snippet in NOTES.txt does not parse: %v\n%s", err, snippet)
			} else if ctrs := maps(pod["initContainers"]); len(ctrs) != 1 || str(ctrs[0]["restartPolicy"]) != "Always" || !slices.ContainsFunc(maps(pod["volumes"]), func(v map[string]any) bool { return v["name"] == "burnwatch-data" }) {
				t.Errorf("the sidecar snippet in NOTES.txt: want one native sidecar and its volumes\n%s", snippet)
			}
		}
	}
}
