package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
)

var timeNow = time.Now

// runServer runs a server configuration.
func runServer(ctx context.Context, cancel context.CancelFunc, opts *config.Options, log *slog.Logger, sigs chan os.Signal) int {
	log.Error("server mode (mode server) is not implemented yet in this build")
	return 1
}
