package app

import (
	"strings"
	"testing"

	"github.com/fedist/fedist/examples/zyx/store"
)

// checkBadInput sends eu's instance requests it must refuse with a 4xx whose message names the
// problem. alice lives in eu, bob in us.
func checkBadInput(t *testing.T, eu *instance, alice, bob store.User) {
	a, b := "/users/"+alice.ID.String(), "/users/"+bob.ID.String()
	for _, tc := range []struct {
		method, path string
		body         any
		code         int
		says         string
	}{
		{"POST", "/users", `{"handle":"Al ice","name":"x"}`, 400, "a-z"},
		{"POST", "/users", `{"handle":"","name":"x"}`, 400, "1 to 32"},
		{"POST", "/users", `{"handle":"dave@us","name":"Dave"}`, 400, "that region's instance"},
		{"POST", "/users", `{"handle":"dave","name":"  "}`, 400, "name"},
		{"POST", "/users", `{"handle":"dave","name":"Dave","age":3}`, 400, "unknown field"},
		{"POST", "/users", `{"handle":`, 400, "request body"},
		{"POST", "/users", `{"handle":"alice","name":"Alice again"}`, 409, "taken"},
		{"GET", "/users/nobody", nil, 400, "handle name@region"},
		{"GET", "/users/nobody@eu", nil, 404, "not found"},
		{"GET", "/users/alice@nowhere", nil, 404, "no region"},
		{"GET", "/users/ffff000000000001", nil, 404, "not in the registry"},
		{"POST", a + "/posts", `{"text":""}`, 400, "text"},
		{"POST", a + "/posts", `{"text":"` + strings.Repeat("x", 501) + `"}`, 400, "500"},
		{"POST", b + "/posts", `{"text":"hi"}`, 421, "use that region's instance"},
		{"POST", a + "/follow", `{"target":""}`, 400, "target"},
		{"POST", a + "/follow", `{"target":"alice@eu"}`, 400, "themselves"},
		{"POST", a + "/follow", `{"target":"nobody@us"}`, 404, "not found"},
		{"GET", a + "/timeline?limit=0", nil, 400, "limit"},
		{"GET", a + "/timeline?limit=x", nil, 400, "limit"},
		{"POST", a + "/move", nil, 400, "already"},
		{"DELETE", a, nil, 405, ""},
	} {
		code, data := eu.do(t, tc.method, tc.path, tc.body)
		if code != tc.code || !strings.Contains(string(data), tc.says) {
			t.Errorf("%s %s %v: %d %s, want %d saying %q", tc.method, tc.path, tc.body, code, data, tc.code, tc.says)
		}
	}
}
