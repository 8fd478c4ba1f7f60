package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/openvpn-go/openvpn-go/config"
	"github.com/openvpn-go/openvpn-go/server"
)

var timeNow = time.Now

// runServer runs a server configuration until SIGINT/SIGTERM; SIGHUP and
// SIGUSR1 restart it (clients reconnect), as with openvpn.
func runServer(ctx context.Context, cancel context.CancelFunc, opts *config.Options, log *slog.Logger, sigs chan os.Signal) int {
	for {
		srv, err := server.New(server.Config{Options: opts, Logger: log})
		if err != nil {
			log.Error(err.Error())
			return 1
		}
		rctx, rcancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- srv.Run(rctx) }()
		restart := false
	wait:
		for {
			select {
			case s := <-sigs:
				switch s {
				case syscall.SIGHUP, syscall.SIGUSR1:
					log.Info(fmt.Sprintf("%s[hard,] received, process restarting", signalName(s)))
					restart = true
				default:
					log.Info(fmt.Sprintf("%s[hard,] received, process exiting", signalName(s)))
				}
				rcancel()
			case err := <-done:
				rcancel()
				if err != nil {
					log.Error(err.Error())
					return 1
				}
				if restart {
					break wait
				}
				return 0
			}
		}
	}
}
