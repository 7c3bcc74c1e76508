package deploy

import (
	"fmt"
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
			Agent       struct {
				Aggregate bool
				Gateways  []string
			}
			Gateway struct {
				Aggregates bool
				Replicas   int
			}
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
			if v.Agent.Aggregate || v.Gateway.Aggregates {
				checkScaleOut(t, objs, kinds, v.Agent.Gateways, v.Gateway.Replicas)
			}
		})
	}
	for _, m := range []string{"gateway", "agent", "sidecar"} {
		if !modes[m] {
			t.Errorf("no values file under ci/ checks mode %s", m)
		}
	}
	t.Run("aggregating agent without a gateway", func(t *testing.T) {
		out, err := tryCommand(nil, nil, helm, "template", "burnwatch", chart, "--set", "mode=agent", "--set", "agent.aggregate=true")
		if err == nil || !strings.Contains(out, "agent.gatewayEndpoint or agent.gateways") {
			t.Errorf("helm template with agent.aggregate and nowhere to send: want an error naming the keys, got %v\n%s", err, out)
		}
	})
	t.Run("unknown mode", func(t *testing.T) {
		out, err := tryCommand(nil, nil, helm, "template", "burnwatch", chart, "--set", "mode=proxy")
		if err == nil || !strings.Contains(out, "mode:") {
			t.Errorf("helm template --set mode=proxy: want an error naming mode, got %v\n%s", err, out)
		}
	})
}

// checkScaleOut checks the collector config of a pre-aggregating agent or
// of a gateway that merges its counts, as docs/deploy.md ("Scaling the
// gateway") shows them: the agent in the daemon's mode agent, with no
// storage, its slo connector's aggregates sent to the gateways, sharded
// by burnwatch.flow; the gateway's otlp receiver feeding the agents'
// metrics to the slo connector, beside spans through the flow processor.
func checkScaleOut(t *testing.T, objs []object, kinds map[string]object, gateways []string, replicas int) {
	t.Helper()
	var cfg map[string]any
	for _, o := range objs {
		if text, ok := get(o, "data", "config.yaml").(string); ok && o.kind() == "ConfigMap" {
			if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
				t.Fatal(err)
			}
		}
	}
	pipeline := func(name string) string {
		p := get(cfg, "service", "pipelines", name)
		return fmt.Sprint(get(p, "receivers"), get(p, "processors"), get(p, "exporters"))
	}
	if daemon := get(cfg, "extensions", "burnwatch"); str(get(daemon, "mode")) == "agent" {
		if get(daemon, "storage") != nil || get(daemon, "alerting") != nil {
			t.Errorf("aggregating agent: storage or alerting set: %v", daemon)
		}
		if got := pipeline("traces") + " " + pipeline("metrics"); got != "[otlpfast] <nil> [slo] [slo] <nil> [loadbalancing]" {
			t.Errorf("aggregating agent's pipelines: %s", got)
		}
		lb := get(cfg, "exporters", "loadbalancing")
		if str(get(lb, "routing_key")) != "attributes" || fmt.Sprint(get(lb, "routing_attributes")) != "[burnwatch.flow]" ||
			fmt.Sprint(get(lb, "resolver", "static", "hostnames")) != fmt.Sprint(gateways) {
			t.Errorf("load-balancing exporter %v: want routing on burnwatch.flow over %v", lb, gateways)
		}
		return
	}
	if got := pipeline("metrics/agents") + " " + pipeline("traces") + " " + pipeline("metrics/sli"); got != "[otlp] <nil> [slo] [otlp] [flow] [slo] [slo] <nil> [nop]" {
		t.Errorf("merging gateway's pipelines: %s", got)
	}
	// Its spans come from applications (agents send counts): a client's
	// own burnwatch.flow must not choose the flow that pages.
	if trust := get(cfg, "processors", "flow", "trust_annotations"); trust == true {
		t.Error("merging gateway: the flow processor trusts the spans' annotations")
	}
	if ss := kinds["StatefulSet"]; ss == nil || fmt.Sprint(get(ss, "spec", "replicas")) != fmt.Sprint(replicas) {
		t.Errorf("merging gateway: want a StatefulSet of %d replicas", replicas)
	}
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
		// Scale-out: sharded gateways are no mistake, and say how the agents
		// reach each replica; aggregating agents say where counts go.
		text := str(get(objs[0], "data", "notes"))
		switch filepath.Base(values) {
		case "gateway-sharded-values.yaml":
			if strings.Contains(text, "WARNING") || !strings.Contains(text, "burnwatch-0.burnwatch-headless") && !strings.Contains(text, "-N.") {
				t.Errorf("NOTES.txt for sharded gateways: want no warning and the replicas' names:\n%s", text)
			}
		case "agent-aggregate-values.yaml":
			if !strings.Contains(text, "the 2 gateways, each flow to one") {
				t.Errorf("NOTES.txt for aggregating agents: want where the counts go:\n%s", text)
			}
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
