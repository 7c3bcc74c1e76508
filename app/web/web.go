// Package web is the daemon's status page: one HTML page and its script and
// style sheet, built into the binary, that poll the JSON API under /api/v1.
// Nothing is fetched from elsewhere at run time and nothing is generated at
// build time: the charts are SVG drawn by hand-written JavaScript.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed index.html static
var assets embed.FS

// Assets are the page's files: index.html and static/.
func Assets() fs.FS { return assets }

// csp allows the page its own script, style and API, and nothing else.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves index.html at / and the assets under /static/. Responses
// are revalidated, so a new binary's page is seen after an upgrade.
func Handler() http.Handler {
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		switch {
		case r.URL.Path == "/":
			http.ServeFileFS(w, r, assets, "index.html")
			return
		case r.URL.Path[len(r.URL.Path)-1] == '/':
			http.NotFound(w, r) // no directory listings
			return
		}
		files.ServeHTTP(w, r)
	})
}
