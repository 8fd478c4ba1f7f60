package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/openvpn-go/openvpn-go/config"
)

// cmdCheck implements "openvpn-go check [-q] FILE...": each configuration
// is read exactly as the runtime would read it (relative file names from
// the configuration's directory, every referenced file opened), its
// warnings and errors are printed as "FILE:LINE: level: message", then a
// summary of the resulting profile. The exit status is 0 when every file
// would start, 1 when one has errors, 2 on bad usage.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quiet := fs.Bool("q", false, "print only warnings, errors and the verdict (no summary)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: openvpn-go check [-q] FILE...")
		fmt.Fprintln(stderr, "Reads each OpenVPN configuration as openvpn-go would run it and reports problems.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	status := 0
	loader := &config.Loader{}
	for i, file := range fs.Args() {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		r := loader.Check(file)
		if *quiet {
			r.Options = nil
		}
		if _, err := r.WriteTo(stdout); err != nil {
			fmt.Fprintf(stderr, "openvpn-go check: %v\n", err)
			return 1
		}
		if !r.OK() {
			status = 1
		}
	}
	return status
}
