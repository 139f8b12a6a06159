// Command fedist-healthcheck is the Docker HEALTHCHECK probe of the FeDist images, which are built
// FROM scratch and so have no shell or curl. It GETs one URL (default: the daemon's /healthz on
// 127.0.0.1:8222 inside the container) and exits 0 on 200, 1 on anything else, printing the answer.
//
// It is deployment glue, not part of the daemons: it reads nothing but the HTTP status.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

const defaultURL = "http://127.0.0.1:8222/healthz"

func main() {
	url := defaultURL
	if len(os.Args) > 1 {
		url = os.Args[1]
	}
	client := &http.Client{Timeout: 2 * time.Second} // well inside compose's healthcheck timeout
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fedist-healthcheck: %v\n", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	fmt.Printf("%s %s\n", resp.Status, strings.TrimSpace(string(body)))
	if resp.StatusCode != http.StatusOK {
		os.Exit(1)
	}
}
