package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/openvpn-go/openvpn-go/client"
	"github.com/openvpn-go/openvpn-go/config"
)

// cmdRun runs a client or server from a configuration given as openvpn
// arguments.
func cmdRun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts, diags, err := config.LoadArgs(args)
	if diags != nil {
		for _, d := range diags.Sorted() {
			fmt.Fprintln(stderr, d.Error())
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "Options error: %v\n", err)
		fmt.Fprintln(stderr, "Use 'openvpn-go check FILE' to see every problem, or --help for usage.")
		return 1
	}
	log := newLogger(stdout, opts.Log.Verb)
	log.Info(versionLine())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGHUP)
	defer signal.Stop(sigs)

	if opts.Mode == config.ModeServer {
		return runServer(ctx, cancel, opts, log, sigs)
	}

	for {
		c, err := client.New(client.Config{
			Options:     opts,
			Logger:      log,
			Credentials: terminalCredentials(stdin, stderr),
			// For testing against servers without TLS-EKM (2.4/2.5).
			DisableEKM: os.Getenv("OPENVPN_GO_DISABLE_EKM") == "1",
		})
		if err != nil {
			log.Error(err.Error())
			return 1
		}
		rctx, rcancelCause := context.WithCancelCause(ctx)
		rcancel := func() { rcancelCause(nil) }
		done := make(chan error, 1)
		go func() { done <- c.Run(rctx) }()
		reload := false
	wait:
		for {
			select {
			case s := <-sigs:
				switch s {
				case syscall.SIGUSR1:
					c.Reconnect("SIGUSR1")
				case syscall.SIGHUP:
					log.Info("SIGHUP[hard,] received, process restarting")
					reload = true
					rcancelCause(client.ExitSignal("SIGHUP"))
				default:
					log.Info(fmt.Sprintf("%s[hard,] received, process exiting", signalName(s)))
					rcancelCause(client.ExitSignal(signalName(s)))
				}
			case err := <-done:
				rcancel()
				if reload {
					n, _, err := config.LoadArgs(args)
					if err != nil {
						log.Error(fmt.Sprintf("re-reading the configuration failed, keeping the old one: %v", err))
					} else {
						opts = n
					}
					break wait
				}
				if err != nil {
					log.Error(err.Error())
					var se *client.ServerError
					if errors.As(err, &se) {
						return 1
					}
					return 1
				}
				return 0
			}
		}
	}
}

// terminalCredentials asks for a username and password on the terminal.
func terminalCredentials(stdin io.Reader, w io.Writer) client.CredentialsFunc {
	r := bufio.NewReader(stdin)
	return func(ctx context.Context, req client.CredentialsRequest) (client.Credentials, error) {
		var cr client.Credentials
		fd := int(os.Stdin.Fd())
		if !term.IsTerminal(fd) {
			return cr, errors.New("credentials needed but standard input is not a terminal: put the username and password in the auth-user-pass file")
		}
		if req.Retry {
			fmt.Fprintln(w, "The server refused the credentials.")
		}
		if req.NeedUsername {
			fmt.Fprint(w, "Enter Auth Username: ")
			line, err := r.ReadString('\n')
			if err != nil {
				return cr, err
			}
			cr.Username = strings.TrimRight(line, "\r\n")
		} else {
			cr.Username = req.Username
		}
		if req.NeedPassword {
			fmt.Fprint(w, "Enter Auth Password: ")
			pw, err := term.ReadPassword(fd)
			fmt.Fprintln(w)
			if err != nil {
				return cr, err
			}
			cr.Password = string(pw)
		}
		if req.Challenge != "" {
			fmt.Fprintf(w, "CHALLENGE: %s ", req.Challenge)
			var resp []byte
			var err error
			if req.ChallengeEcho {
				var line string
				line, err = r.ReadString('\n')
				resp = []byte(strings.TrimRight(line, "\r\n"))
			} else {
				resp, err = term.ReadPassword(fd)
				fmt.Fprintln(w)
			}
			if err != nil {
				return cr, err
			}
			cr.Response = string(resp)
		}
		return cr, nil
	}
}

// newLogger returns a logger that writes OpenVPN-style lines:
// "2026-11-22 10:00:00 message key=value". verb 4 and above include debug
// messages.
func newLogger(w io.Writer, verb int) *slog.Logger {
	level := slog.LevelInfo
	if verb >= 4 {
		level = slog.LevelDebug
	}
	if verb == 0 {
		level = slog.LevelWarn
	}
	return slog.New(&lineHandler{w: w, level: level})
}

// signalName is a signal as openvpn names it in its log ("SIGTERM").
func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGUSR1:
		return "SIGUSR1"
	case syscall.SIGUSR2:
		return "SIGUSR2"
	}
	return s.String()
}
