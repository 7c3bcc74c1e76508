package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/specs"
)

// object is one Kubernetes object as YAML decodes it.
type object map[string]any

func (o object) kind() string      { return str(get(o, "kind")) }
func (o object) name() string      { return str(get(o, "metadata", "name")) }
func (o object) namespace() string { return str(get(o, "metadata", "namespace")) }
func (o object) String() string    { return o.kind() + "/" + o.name() }

// get walks maps by key.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			if o, isObj := v.(object); isObj {
				m = o
			} else {
				return nil
			}
		}
		v = m[k]
	}
	return v
}

func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func maps(v any) []map[string]any {
	var out []map[string]any
	for _, e := range list(v) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// decodeObjects reads every YAML document of data (one file, or helm
// template's output) as Kubernetes objects.
func decodeObjects(t *testing.T, source string, data []byte) []object {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []object
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", source, err)
		}
		if doc == nil {
			continue
		}
		o := object(doc)
		if o.kind() == "" || o.name() == "" || str(get(o, "apiVersion")) == "" {
			t.Errorf("%s: a document without apiVersion, kind or metadata.name", source)
			continue
		}
		out = append(out, o)
	}
}

// manifestCheck checks a set of objects meant to be applied together.
type manifestCheck struct {
	t    *testing.T
	objs []object
	// external are ConfigMaps made outside the set (a chart's
	// specs.existingConfigMap): their contents cannot be checked.
	external []string
	// validated are the ConfigMaps whose collector config a container was
	// checked with.
	validated map[string]bool
}

func checkManifests(t *testing.T, objs []object, external ...string) {
	t.Helper()
	c := &manifestCheck{t: t, objs: objs, external: external, validated: map[string]bool{}}
	seen := map[string]bool{}
	for _, o := range objs {
		key := o.kind() + "/" + o.namespace() + "/" + o.name()
		if seen[key] {
			t.Errorf("%s: defined twice", key)
		}
		seen[key] = true
	}
	for _, o := range objs {
		if pod := podSpec(o); pod != nil {
			for _, ctr := range slices.Concat(maps(pod["initContainers"]), maps(pod["containers"])) {
				if strings.Contains(str(ctr["image"]), "burnwatch") {
					t.Run(o.kind()+"/"+o.name(), func(t *testing.T) { c.checkDaemon(t, o, pod, ctr) })
				}
			}
		}
		if o.kind() == "Service" {
			c.checkService(o)
		}
	}
	// A collector config no workload runs (a chart's sidecar mode) is still
	// validated, with every variable it reads set.
	for _, o := range objs {
		if cfg, ok := get(o, "data", "config.yaml").(string); ok && o.kind() == "ConfigMap" && !c.validated[o.namespace()+"/"+o.name()] {
			env := map[string]string{}
			for _, ref := range envRefs(cfg) {
				env[ref] = "test-" + strings.ToLower(ref)
			}
			t.Run(o.String(), func(t *testing.T) { validate(t, cfg, env) })
		}
	}
}

// podSpec is the pod spec of a workload, or nil.
func podSpec(o object) map[string]any {
	switch o.kind() {
	case "Pod":
		m, _ := get(o, "spec").(map[string]any)
		return m
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		m, _ := get(o, "spec", "template", "spec").(map[string]any)
		return m
	}
	return nil
}

func (c *manifestCheck) find(kind, namespace, name string) object {
	for _, o := range c.objs {
		if o.kind() == kind && o.namespace() == namespace && o.name() == name {
			return o
		}
	}
	return nil
}

var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)

// envRefs are the environment variables a config reads without a default.
func envRefs(cfg string) []string {
	var out []string
	for _, m := range envRef.FindAllStringSubmatch(cfg, -1) {
		if m[2] == "" && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// validate runs `burnwatch validate` on a collector config in a clean
// environment plus env.
func validate(t *testing.T, cfg string, env map[string]string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := tryCommand(nil, append(baseEnv(), envList(env)...), binary, "validate", "--config="+file); err != nil {
		t.Errorf("burnwatch validate: %v\n%s\nconfig:\n%s", err, out, cfg)
	}
}

// secretKeys are config keys whose values must come from a Secret through
// ${env:...} or ${file:...}, never be written into a ConfigMap.
var secretKeys = []string{"routing_key", "bearer_token", "hmac_secret", "password", "api_key", "token"}

// checkDaemon checks a burnwatch container: its config from a ConfigMap
// passes `burnwatch validate` with the container's environment, the spec
// files it names are mounted and load, its data directory is a writable
// volume, probes reach the daemon's HTTP endpoint on paths it serves, the
// ports it listens on are declared, secrets come from Secrets, and it runs
// non-root, without privileges, on a read-only root, with resources set.
func (c *manifestCheck) checkDaemon(t *testing.T, o object, pod, ctr map[string]any) {
	ns := o.namespace()
	volumes := map[string]map[string]any{}
	for _, v := range maps(pod["volumes"]) {
		volumes[str(v["name"])] = v
	}
	var claimTemplates []string
	for _, vct := range maps(get(o, "spec", "volumeClaimTemplates")) {
		claimTemplates = append(claimTemplates, str(get(vct, "metadata", "name")))
	}

	// The file system the container sees, as far as ConfigMaps make it.
	rootfs := t.TempDir()
	type mount struct {
		path, volume string
		readOnly     bool
		configMap    string // "" when not a ConfigMap
		external     bool
	}
	var mounts []mount
	for _, m := range maps(ctr["volumeMounts"]) {
		mt := mount{path: str(m["mountPath"]), volume: str(m["name"]), readOnly: m["readOnly"] == true}
		v, ok := volumes[mt.volume]
		switch {
		case ok && get(v, "configMap") != nil:
			mt.configMap = str(get(v, "configMap", "name"))
			cm := c.find("ConfigMap", ns, mt.configMap)
			if cm == nil {
				if !slices.Contains(c.external, mt.configMap) {
					t.Errorf("volume %s: ConfigMap %s/%s is not in the manifests", mt.volume, ns, mt.configMap)
				}
				mt.external = true
				break
			}
			dir := filepath.Join(rootfs, mt.path)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			data, _ := get(cm, "data").(map[string]any)
			for k, v := range data {
				if err := os.WriteFile(filepath.Join(dir, k), []byte(str(v)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		case !ok && !slices.Contains(claimTemplates, mt.volume):
			t.Errorf("volumeMount %s: no such volume", mt.volume)
		}
		mounts = append(mounts, mt)
	}
	mountOf := func(p string) (mount, bool) {
		var best mount
		found := false
		for _, m := range mounts {
			if (p == m.path || strings.HasPrefix(p, strings.TrimSuffix(m.path, "/")+"/")) && len(m.path) >= len(best.path) {
				best, found = m, true
			}
		}
		return best, found
	}

	// The collector config.
	var configPath string
	args := slices.Concat(list(ctr["command"]), list(ctr["args"]))
	for i, a := range args {
		if p, ok := strings.CutPrefix(str(a), "--config="); ok {
			configPath = p
		} else if str(a) == "--config" && i+1 < len(args) {
			configPath = str(args[i+1])
		}
	}
	if configPath == "" {
		t.Fatal("no --config argument: the image's default config listens on 0.0.0.0 with the example specs")
	}
	cm, ok := mountOf(configPath)
	if !ok || cm.configMap == "" || cm.external {
		t.Fatalf("--config=%s is not in a ConfigMap of the manifests", configPath)
	}
	raw, err := os.ReadFile(filepath.Join(rootfs, configPath))
	if err != nil {
		t.Fatalf("--config=%s: ConfigMap %s has no such key", configPath, cm.configMap)
	}
	cfgText := string(raw)
	c.validated[ns+"/"+cm.configMap] = true
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("ConfigMap %s: %v", cm.configMap, err)
	}
	daemon := get(cfg, "extensions", "burnwatch")
	if daemon == nil {
		t.Fatal("the config has no extensions.burnwatch")
	}

	// Spec files: mounted, and they load.
	var patterns []string
	checkSpecs := true
	for _, f := range list(get(daemon, "files")) {
		p := str(f)
		if strings.HasPrefix(p, specs.BuiltinPrefix) {
			patterns = append(patterns, p)
			continue
		}
		m, ok := mountOf(p)
		if !ok || m.configMap == "" {
			t.Errorf("files: %s is not in a ConfigMap the container mounts", p)
			checkSpecs = false
			continue
		}
		if m.external {
			checkSpecs = false
		}
		patterns = append(patterns, filepath.Join(rootfs, p))
	}
	if len(patterns) == 0 {
		t.Error("extensions.burnwatch.files: none")
	} else if checkSpecs {
		if _, err := specs.Load(patterns...); err != nil {
			// Name the files as the container sees them.
			t.Errorf("the spec files: %s", strings.ReplaceAll(err.Error(), rootfs, ""))
		}
	}

	// State on a writable volume; a pre-aggregating agent (the daemon's
	// mode agent) keeps none, and the daemon refuses a directory there.
	if dir := str(get(daemon, "storage", "directory")); str(get(daemon, "mode")) == "agent" {
		if dir != "" {
			t.Errorf("storage.directory %s in mode agent, which keeps no state", dir)
		}
	} else if dir == "" {
		t.Error("no storage.directory: a restart would start every window afresh")
	} else if m, ok := mountOf(dir); !ok || m.readOnly || m.configMap != "" {
		t.Errorf("storage.directory %s is not on a writable volume (the root file system is read-only)", dir)
	} else if v, ok := volumes[m.volume]; ok && get(v, "emptyDir") == nil && get(v, "persistentVolumeClaim") == nil && get(v, "hostPath") == nil {
		t.Errorf("storage.directory %s: volume %s is neither an emptyDir, a PersistentVolumeClaim nor a hostPath", dir, m.volume)
	}

	// Ports and probes.
	ports := map[string]int{}
	var portNumbers []int
	for _, p := range maps(ctr["ports"]) {
		n, _ := strconv.Atoi(str(p["containerPort"]))
		portNumbers = append(portNumbers, n)
		if name := str(p["name"]); name != "" {
			ports[name] = n
		}
	}
	httpHost, httpPort := splitEndpoint(t, str(get(daemon, "http", "endpoint")))
	if isLoopback(httpHost) {
		t.Errorf("extensions.burnwatch.http.endpoint on %s: the kubelet's probes and Prometheus cannot reach it", httpHost)
	}
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		hg := get(ctr, probe, "httpGet")
		if hg == nil {
			t.Errorf("%s: want an httpGet probe on the daemon's HTTP endpoint", probe)
			continue
		}
		port, err := strconv.Atoi(str(get(hg, "port")))
		if err != nil {
			port = ports[str(get(hg, "port"))]
		}
		if port != httpPort {
			t.Errorf("%s on port %v, but the daemon's HTTP endpoint is on %d", probe, get(hg, "port"), httpPort)
		}
		if p := str(get(hg, "path")); !slices.Contains(servedPaths, p) {
			t.Errorf("%s path %s: the daemon serves %v", probe, p, servedPaths)
		}
	}
	for id, r := range mapOf(get(cfg, "receivers")) {
		for proto, settings := range mapOf(get(r, "protocols")) {
			host, port := splitEndpoint(t, str(get(settings, "endpoint")))
			if !isLoopback(host) && !slices.Contains(portNumbers, port) {
				t.Errorf("receivers.%s.protocols.%s listens on %d, which the container does not declare", id, proto, port)
			}
		}
	}

	for _, r := range maps(get(cfg, "service", "telemetry", "metrics", "readers")) {
		if prom := get(r, "pull", "exporter", "prometheus"); prom != nil && !isLoopback(str(get(prom, "host"))) {
			if port, _ := strconv.Atoi(str(get(prom, "port"))); !slices.Contains(portNumbers, port) {
				t.Errorf("service.telemetry.metrics serves on %d, which the container does not declare", port)
			}
		}
	}

	// Environment: every ${env:...} the config reads is set; secrets from Secrets.
	env := map[string]string{}
	fromSecret := map[string]bool{}
	for _, e := range maps(ctr["env"]) {
		name := str(e["name"])
		switch {
		case e["value"] != nil:
			env[name] = str(e["value"])
		case get(e, "valueFrom", "secretKeyRef") != nil:
			env[name] = "test-secret-" + strings.ToLower(name)
			fromSecret[name] = true
		case get(e, "valueFrom") != nil:
			env[name] = "10.0.0.1"
		}
	}
	for _, ref := range envRefs(cfgText) {
		if _, ok := env[ref]; !ok && ctr["envFrom"] == nil {
			t.Errorf("the config reads ${env:%s}, which the container does not set", ref)
		}
	}
	walk(cfg, "", func(key string, v any) {
		if !slices.Contains(secretKeys, key[strings.LastIndex(key, ".")+1:]) || key == "exporters.loadbalancing.routing_key" {
			return // the load-balancing exporter's routing_key names what it routes on
		}
		s := str(v)
		m := envRef.FindStringSubmatch(s)
		switch {
		case s == "" || strings.HasPrefix(s, "${file:"):
		case m == nil:
			t.Errorf("%s: a secret written into the ConfigMap; read it with ${env:NAME} from a Secret", key)
		case !fromSecret[m[1]] && m[2] == "":
			t.Errorf("%s reads ${env:%s}, which does not come from a Secret (valueFrom.secretKeyRef)", key, m[1])
		}
	})
	validate(t, cfgText, env)

	// Non-root, no privileges, read-only root, resources.
	psc, _ := pod["securityContext"].(map[string]any)
	sc, _ := ctr["securityContext"].(map[string]any)
	either := func(key string) any {
		if v, ok := sc[key]; ok {
			return v
		}
		return psc[key]
	}
	if either("runAsNonRoot") != true {
		t.Error("securityContext.runAsNonRoot is not true")
	}
	if uid := either("runAsUser"); uid != nil && str(uid) == "0" {
		t.Error("securityContext.runAsUser is 0")
	}
	if sc["allowPrivilegeEscalation"] != false {
		t.Error("securityContext.allowPrivilegeEscalation is not false")
	}
	if sc["readOnlyRootFilesystem"] != true {
		t.Error("securityContext.readOnlyRootFilesystem is not true")
	}
	if drop := list(get(sc, "capabilities", "drop")); !slices.Contains(drop, any("ALL")) {
		t.Error("securityContext.capabilities.drop does not drop ALL")
	}
	if str(get(either("seccompProfile"), "type")) != "RuntimeDefault" {
		t.Error("seccompProfile is not RuntimeDefault")
	}
	for _, r := range []string{"limits.memory", "requests.memory", "requests.cpu"} {
		k, v, _ := strings.Cut(r, ".")
		if get(ctr, "resources", k, v) == nil {
			t.Errorf("resources.%s is not set (the daemon derives its soft memory limit from the limit)", r)
		}
	}
}

// servedPaths are the daemon's HTTP paths a probe may use.
var servedPaths = []string{"/-/healthy", "/-/ready", "/metrics", "/api/v2/status"}

func splitEndpoint(t *testing.T, endpoint string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		t.Errorf("endpoint %q: %v", endpoint, err)
		return "", 0
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Errorf("endpoint %q: port is not a number", endpoint)
	}
	return host, n
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// walk calls fn on every scalar of v with its dotted key.
func walk(v any, key string, fn func(key string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			walk(e, strings.TrimPrefix(key+"."+k, "."), fn)
		}
	case []any:
		for i, e := range x {
			walk(e, fmt.Sprintf("%s[%d]", key, i), fn)
		}
	default:
		fn(key, v)
	}
}

// checkService checks that a Service selects pods of the manifests and
// that its target ports are ports of those pods.
func (c *manifestCheck) checkService(svc object) {
	t := c.t
	selector := mapOf(get(svc, "spec", "selector"))
	if len(selector) == 0 {
		return
	}
	var ports []string
	matched := false
	for _, o := range c.objs {
		pod := podSpec(o)
		if pod == nil || o.namespace() != svc.namespace() {
			continue
		}
		labels := mapOf(get(o, "spec", "template", "metadata", "labels"))
		ok := true
		for k, v := range selector {
			ok = ok && str(labels[k]) == str(v)
		}
		if !ok {
			continue
		}
		matched = true
		for _, ctr := range slices.Concat(maps(pod["initContainers"]), maps(pod["containers"])) {
			for _, p := range maps(ctr["ports"]) {
				ports = append(ports, str(p["name"]), str(p["containerPort"]))
			}
		}
	}
	if !matched {
		t.Errorf("%s: its selector %v matches no pod of the manifests", svc, selector)
		return
	}
	for _, p := range maps(get(svc, "spec", "ports")) {
		target := str(p["targetPort"])
		if target == "" {
			target = str(p["port"])
		}
		if !slices.Contains(ports, target) {
			t.Errorf("%s: port %s targets %s, which its pods do not declare", svc, str(p["name"]), target)
		}
	}
}

// TestKubernetesManifests checks deploy/kubernetes as one set, the way
// docs/deploy.md applies it: every file parses, and every burnwatch
// container passes checkDaemon; and each of the three examples is what it
// says it is.
func TestKubernetesManifests(t *testing.T) {
	var objs []object
	err := filepath.WalkDir(path("deploy/kubernetes"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		objs = append(objs, decodeObjects(t, p, data)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkManifests(t, objs)

	c := &manifestCheck{t: t, objs: objs}
	// The sidecar: the application and burnwatch in one pod, OTLP on localhost.
	shop := c.find("Deployment", "", "shop")
	if shop == nil || len(slices.Concat(maps(get(shop, "spec", "template", "spec", "initContainers")), maps(get(shop, "spec", "template", "spec", "containers")))) < 2 {
		t.Error("sidecar: want Deployment shop with the application and burnwatch in one pod")
	}
	// The agent: a DaemonSet behind a node-local Service, forwarding to the gateway's Service.
	if c.find("DaemonSet", "burnwatch", "burnwatch-agent") == nil {
		t.Error("agent: want DaemonSet burnwatch/burnwatch-agent")
	}
	if svc := c.find("Service", "burnwatch", "burnwatch-agent"); svc == nil || str(get(svc, "spec", "internalTrafficPolicy")) != "Local" {
		t.Error("agent: want Service burnwatch/burnwatch-agent with internalTrafficPolicy: Local")
	}
	agentCfg := str(get(c.find("ConfigMap", "burnwatch", "burnwatch-agent-config"), "data", "config.yaml"))
	if !strings.Contains(agentCfg, "burnwatch-gateway.burnwatch.svc.cluster.local:4317") {
		t.Error("agent: its config does not forward to the gateway's Service, burnwatch-gateway.burnwatch.svc.cluster.local:4317")
	}
	// The gateway: a StatefulSet with a volume per replica, behind a Service.
	gw := c.find("StatefulSet", "burnwatch", "burnwatch-gateway")
	if gw == nil || len(maps(get(gw, "spec", "volumeClaimTemplates"))) == 0 {
		t.Error("gateway: want StatefulSet burnwatch/burnwatch-gateway with a volumeClaimTemplate")
	}
	if c.find("Service", "burnwatch", "burnwatch-gateway") == nil {
		t.Error("gateway: want Service burnwatch/burnwatch-gateway")
	}
}
