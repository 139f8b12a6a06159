package pki

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/fedist/fedist/regions"
)

// Default validities of the certs command.
const (
	DefaultCADays   = 3650 // ten years: replacing a CA means reissuing every certificate
	DefaultLeafDays = 730  // two years for node and client certificates
	maxDays         = 36500
)

const certsUsage = `usage: fedist-root certs <command> [flags]

Manages the certificates of a FeDist federation: one CA, a certificate per node (mutual TLS on
leafnode and cluster links, and signed control messages) and per application user.

commands:
  init    create the CA (ca.crt, ca.key) in a new directory
  node    issue a node certificate, node-<rrrr>-<name>.crt/.key
  client  issue an application user's certificate, client-<rrrr>-<user>.crt/.key

Run 'fedist-root certs <command> -h' for the flags of a command.
`

// usageError is a command-line mistake: exit code 2. printed is set when the flag package has
// already printed it, with the usage.
type usageError struct {
	err     error
	printed bool
}

func (e *usageError) Error() string { return e.err.Error() }

func usagef(format string, a ...any) error { return &usageError{err: fmt.Errorf(format, a...)} }

// Main runs 'fedist-root certs' with args (after "certs") and returns the exit code: 0 on
// success or -h, 2 for a usage error, 1 for a failure.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, certsUsage)
		return 2
	}
	var err error
	switch args[0] {
	case "init":
		err = runInit(args[1:], stdout, stderr)
	case "node":
		err = runNode(args[1:], stdout, stderr)
	case "client":
		err = runClient(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, certsUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "fedist-root certs: unknown command %q\n\n%s", args[0], certsUsage)
		return 2
	}
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		if !usage.printed {
			fmt.Fprintf(stderr, "fedist-root certs %s: %v (see 'fedist-root certs %s -h')\n", args[0], err, args[0])
		}
		return 2
	default:
		fmt.Fprintf(stderr, "fedist-root certs %s: %v\n", args[0], err)
		return 1
	}
}

// newFlagSet makes a subcommand's flag set whose -h prints a description and an example.
func newFlagSet(name, about, example string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("fedist-root certs "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: fedist-root certs %s [flags]\n\n%s\n\nexample:\n  %s\n\nflags:\n", name, about, example)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; flag errors have been printed with the usage by the flag package.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: err, printed: true}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (flags only)", fs.Arg(0))
	}
	return nil
}

func runInit(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("init", "Creates a new CA: ca.crt and ca.key (mode 0600) in -dir, which is created with mode 0700.\n"+
		"Refuses if either file exists. Keep ca.key off the nodes: it signs every certificate.",
		"fedist-root certs init -dir ./certs", stderr)
	dir := fs.String("dir", "", "certificate directory (required)")
	days := fs.Int("days", DefaultCADays, "validity of the CA in days")
	if err := parse(fs, args); err != nil {
		return err
	}
	validity, err := checkCommon(*dir, *days)
	if err != nil {
		return err
	}
	if err := InitCA(*dir, validity); err != nil {
		return err
	}
	return report(stdout, filepath.Join(*dir, CACertFile), filepath.Join(*dir, CAKeyFile))
}

func runNode(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("node", "Issues a node certificate signed by the CA in -dir: CN fd-<rrrr>-<name> (the nats-server name),\n"+
		"URI SAN fedist://region/<rrrr>/node/<name>, usable as TLS server and client.",
		"fedist-root certs node -dir ./certs -id 00a3 -name n1 -host n1.example.net,10.0.0.5", stderr)
	common := addLeafFlags(fs)
	name := fs.String("name", "", "node name, unique within the region (required)")
	hosts := fs.String("host", "", "comma-separated DNS names and IP addresses the node is reached at (default "+strings.Join(DefaultHosts, ",")+")")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir, region, validity, err := common.check()
	if err != nil {
		return err
	}
	if err := checkNodeName(*name); err != nil {
		return usagef("-name %q: %v", *name, err)
	}
	hostList, err := parseHosts(*hosts)
	if err != nil {
		return err
	}
	certPath, keyPath, err := IssueNode(dir, region, *name, hostList, validity)
	if err != nil {
		return err
	}
	return report(stdout, certPath, keyPath)
}

func runClient(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("client", "Issues an application user's client certificate signed by the CA in -dir: CN <user>,\n"+
		"URI SAN fedist://region/<rrrr>/user/<user>, usable as TLS client only.",
		"fedist-root certs client -dir ./certs -id 00a3 -user alice", stderr)
	common := addLeafFlags(fs)
	user := fs.String("user", "", "user name (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir, region, validity, err := common.check()
	if err != nil {
		return err
	}
	if err := checkUserName(*user); err != nil {
		return usagef("-user %q: %v", *user, err)
	}
	certPath, keyPath, err := IssueClient(dir, region, *user, validity)
	if err != nil {
		return err
	}
	return report(stdout, certPath, keyPath)
}

// checkCommon checks -dir and -days and returns the validity.
func checkCommon(dir string, days int) (time.Duration, error) {
	if dir == "" {
		return 0, usagef("-dir is required")
	}
	if days < 1 || days > maxDays {
		return 0, usagef("-days %d: want 1 to %d", days, maxDays)
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

func parseRegionFlag(s string) (regions.RegionID, error) {
	if s == "" {
		return 0, usagef("-id is required (4 lowercase hex digits, e.g. 00a3)")
	}
	r, err := regions.ParseRegion(s)
	if err != nil {
		return 0, usagef("-id %q: %v", s, err)
	}
	return r, nil
}

// parseHosts splits -host; empty means the defaults.
func parseHosts(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var hosts []string
	for _, h := range strings.Split(s, ",") {
		h = strings.TrimSpace(h)
		if err := checkHost(h); err != nil {
			return nil, usagef("-host %q: %v", h, err)
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// report prints the files written and what the certificate says.
func report(stdout io.Writer, certPath, keyPath string) error {
	certs, err := readCerts(certPath)
	if err != nil {
		return err
	}
	c := certs[0]
	subject := "CN=" + c.Subject.CommonName
	if id, err := IdentityOf(c); err == nil {
		subject += ", " + id.String()
	}
	fmt.Fprintf(stdout, "wrote %s\n", certPath)
	fmt.Fprintf(stdout, "wrote %s (mode 0600: keep it secret)\n", keyPath)
	fmt.Fprintf(stdout, "  subject %s\n  valid   %s to %s\n", subject,
		c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

// leafFlags are the flags that node and client certificates share.
type leafFlags struct {
	dir, id *string
	days    *int
}

func addLeafFlags(fs *flag.FlagSet) leafFlags {
	return leafFlags{
		dir:  fs.String("dir", "", "certificate directory holding ca.crt and ca.key (required)"),
		id:   fs.String("id", "", "region ID, 4 lowercase hex digits, e.g. 00a3 (required)"),
		days: fs.Int("days", DefaultLeafDays, "validity in days (cut short at the CA's expiry)"),
	}
}

// check validates the shared flags after parsing.
func (f leafFlags) check() (dir string, region regions.RegionID, validity time.Duration, err error) {
	if validity, err = checkCommon(*f.dir, *f.days); err != nil {
		return "", 0, 0, err
	}
	if region, err = parseRegionFlag(*f.id); err != nil {
		return "", 0, 0, err
	}
	return *f.dir, region, validity, nil
}
